/**
 * Every keyfleet subcommand, registered here once, loaded only when it runs.
 *
 * Start-up budget (issue 15): `keyfleet --help` and a key-less command must not load every
 * command and its dependencies (execa, kubernetes-models, age) up front. So the list holds each
 * command's name and summary (what the overview and the matcher need) and a dynamic `import()`
 * of its module; test/cli/help.test.ts checks that name and summary equal the loaded command's.
 */
import type { Command } from '../command.js'

/** A registered command: enough to list and match it, and how to load the rest. */
export interface CommandEntry {
    /** As {@link Command.name}. */
    readonly name: string
    /** As {@link Command.summary}. */
    readonly summary: string
    /** Loads the command's module (and only its dependencies). */
    readonly load: () => Promise<Command>
    /** Waits on sops or git without a prompt: a terminal gets a progress line (cli/progress.ts). */
    readonly progress: boolean
}

/** Commands that spawn sops or git and do not prompt (set, propose and edit talk to the terminal). */
const WAITS_ON_TOOLS = new Set(['agent', 'decrypt', 'diff', 'env', 'import', 'init', 'proposals', 'recipients', 'rollout status', 'rotate', 'scan', 'unset', 'validate'])

const lazy = (name: string, summary: string, load: () => Promise<{ command: Command }>): CommandEntry =>
    ({ name, summary, load: async () => (await load()).command, progress: WAITS_ON_TOOLS.has(name) })

/** Commands by the job they serve, as `keyfleet --help` lists them. */
export const commandGroups: readonly (readonly [title: string, commands: readonly CommandEntry[]])[] = [
    ['Change keys', [
        lazy('set', 'Add or change one key in an environment (value from stdin or a hidden prompt)', () => import('./set.js')),
        lazy('unset', 'Remove one key from an environment', () => import('./unset.js')),
        lazy('import', 'Import an existing .env file into an environment (order kept)', () => import('./import.js')),
        lazy('edit', 'Edit an environment in $EDITOR (sops decrypts to a private temp file and re-encrypts)', () => import('./edit.js')),
        lazy('get', 'Print one value (for scripts); decrypts in process, no sops needed', () => import('./get.js')),
        lazy('ls', 'List key names per environment (no key needed)', () => import('./ls.js')),
        lazy('run', 'Run a program with an environment\'s keys as environment variables', () => import('./run.js')),
        lazy('decrypt', 'Decrypt any SOPS file in process (MAC verified) and print it like `sops decrypt`', () => import('./decrypt.js')),
    ]],
    ['Check a change (PR)', [
        lazy('validate', 'Check the repository: encryption, recipients, names, schemas, plaintext keys (keyed with an identity)', () => import('./validate.js')),
        lazy('diff', 'Report which secret names changed between two git revisions (never the values)', () => import('./diff.js')),
        lazy('scan', 'Find plaintext provider keys in staged, changed or tracked files', () => import('./scan.js')),
        lazy('hook install', 'Install a git pre-commit hook that blocks plaintext provider keys', () => import('./hook.js')),
        lazy('check', 'Check one environment\'s keys: format and placeholders, and with --live ask each provider', () => import('./check.js')),
    ]],
    ['Key lifecycle', [
        lazy('propose', 'Propose a new value for a key without access to the environment (write-only)', () => import('./propose.js')),
        lazy('proposals', 'Check (key-less) or fold (keyed) the proposals of an environment', () => import('./proposals.js')),
        lazy('recipients', 'List, add, remove or sync the age recipients of an environment', () => import('./recipients.js')),
        lazy('rotate', 'Replace the data key of an environment (sops rotate); values stay the same', () => import('./rotate.js')),
        lazy('rotate-key', 'Rotate one provider key with overlap: add the new key, confirm every agent, remove the old, then revoke', () => import('./rotate-key.js')),
        lazy('agent', 'Bootstrap an agent: create a host identity, register it in deployment.yaml, or sync its signed bundle', () => import('./agent.js')),
    ]],
    ['Deploy', [
        lazy('render', 'Render what each agent mounts: Kubernetes Secrets + Deployment patches, or age bundles', () => import('./render.js')),
        lazy('registry', 'Show which agent reads which key, and which agents a key rotation touches (no key needed)', () => import('./registry.js')),
        lazy('rollout status', 'Show which agents serve the generation the last render produced (pods via the API server, hosts via status_url)', () => import('./rollout.js')),
    ]],
    ['Set up', [
        lazy('init', 'Start keyfleet in a git repository (or retire the demo identities with --replace-demo)', () => import('./init.js')),
        lazy('env', 'Add or remove an environment (catalog, .sops.yaml rule, CI identity, files)', () => import('./env.js')),
        lazy('keygen', 'Generate an age identity (for a CI environment, an admin or a host)', () => import('./keygen.js')),
    ]],
]

/** Every subcommand. */
export const commands: readonly CommandEntry[] = commandGroups.flatMap(([, group]) => group)
