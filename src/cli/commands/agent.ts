/**
 * `keyfleet agent init|register|sync`: bootstrap an agent host. `init` runs on the
 * host and creates its age identity; `register` runs in the repository and
 * adds the agent to the environment's deployment.yaml; `sync` (agent-sync.ts)
 * keeps a directory on the host in step with its signed bundle.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { generateIdentity, parseIdentityFile, recipientOf } from '../../age/index.js'
import { KeyfleetError } from '../../errors.js'
import { registerAgent } from '../../lifecycle/index.js'
import { writeFileAtomic } from '../../repo/atomic.js'
import { assertEnvironment } from '../../repo/layout.js'
import type { CliContext, Command, CommandArgs } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { openRepo } from '../repo-context.js'
import { runSync, syncOptions } from './agent-sync.js'
import { identityFileText } from './keygen.js'

/** Where `agent init` keeps the host identity unless --out says otherwise. */
export const DEFAULT_AGENT_IDENTITY = '.config/keyfleet/agent.agekey'

const list = (value: unknown): string[] =>
    (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)

/** What to do after `agent init`: register the recipient, then run the sync (docs/hosts.md). */
const nextSteps = (recipient: string, identity: string, values: CommandArgs['values']): string => {
    const env = (values.env as string | undefined) ?? '<env>'
    const name = (values.name as string | undefined) ?? '<name>'
    const repo = (values.repo as string | undefined) ?? '<owner>/<repo>'
    // Next to the identity, as docs/hosts.md has it (/etc/keyfleet/signing.pub for /etc/keyfleet/agent.agekey).
    const signingPub = join(dirname(identity), 'signing.pub')
    return [
        '1. add this host to deployment.yaml, from the repository (then open a pull request):',
        `     keyfleet agent register ${env} ${name} --recipient ${recipient} --keys claude,openai --cloud local`,
        `2. copy environments/${env}/signing.pub from the repository to ${signingPub}, then run (docs/hosts.md has systemd and launchd units):`,
        // Quoted: `?` is a glob in zsh (no match is an error) and sh.
        `     keyfleet agent sync 'https://api.github.com/repos/${repo}/contents/${env}/${name}.bundle?ref=keyfleet/bundles' \\`,
        `       --signing-key-file ${signingPub} --identity-file ${identity} --out ~/.local/state/keyfleet/${name}`,
        '',
    ].join('\n')
}

const init = async ({ positionals, values }: CommandArgs, ctx: CliContext): Promise<number> => {
    if (positionals.length !== 1) throw new KeyfleetError('USAGE', 'expected: keyfleet agent init [--out FILE] [--pq]')
    const out = values.out as string | undefined
    if (out === undefined && !ctx.env.HOME) throw new KeyfleetError('USAGE', 'HOME is not set; pass --out FILE for the identity')
    const path = out === undefined ? join(ctx.env.HOME as string, DEFAULT_AGENT_IDENTITY) : resolve(ctx.cwd, out)
    if (existsSync(path)) {
        // Re-running the bootstrap is safe: the identity is never replaced, only its recipient shown again.
        const [identity] = parseIdentityFile(readFileSync(path, 'utf8'), path)
        ctx.stdout.write(`${await recipientOf(identity as string)}\n`)
        ctx.stderr.write(`${path} already exists; kept it (keyfleet never overwrites an identity). Its recipient is above.\n${nextSteps(await recipientOf(identity as string), path, values)}`)
        return ExitCode.ok
    }
    const { identity, recipient } = await generateIdentity(values.pq === true ? 'hybrid' : 'x25519')
    mkdirSync(resolve(path, '..'), { recursive: true, mode: 0o700 })
    writeFileAtomic(path, identityFileText(identity, recipient, 'keyfleet agent identity: decrypts this host\'s bundle'), 0o600)
    ctx.stdout.write(`${recipient}\n`)
    ctx.stderr.write(`wrote ${path} (mode 0600).\n${nextSteps(recipient, path, values)}`)
    return ExitCode.ok
}

const register = async ({ positionals, values }: CommandArgs, ctx: CliContext): Promise<number> => {
    const [, env, name] = positionals as [string, string | undefined, string | undefined]
    if (env === undefined || name === undefined) throw new KeyfleetError('USAGE', 'expected: keyfleet agent register <env> <name> --keys … --cloud … (--recipient age1… | --namespace NS)')
    const keys = list(values.keys)
    const cloud = values.cloud as string | undefined
    if (keys.length === 0) throw new KeyfleetError('USAGE', '--keys is required: the env names or services this agent may read, e.g. --keys claude,openai')
    if (cloud === undefined) throw new KeyfleetError('USAGE', '--cloud is required: aws, azure, gcp, onprem or local')
    const repo = openRepo(ctx)
    const paths = assertEnvironment(repo.root, env, repo.catalog.environments)
    const file = join(repo.root, paths.deployment)
    const text = existsSync(file) ? readFileSync(file, 'utf8') : `environment: ${env}\nagents: []\n`
    const recipient = values.recipient as string | undefined
    const namespace = values.namespace as string | undefined
    const out = registerAgent(text, paths.deployment, {
        name, cloud, keys, ...(recipient !== undefined ? { recipient } : {}), ...(namespace !== undefined ? { namespace } : {}),
    }, repo.catalog)
    writeFileAtomic(file, out, 0o644)
    ctx.stdout.write(`registered ${name} in ${paths.deployment} (${recipient !== undefined ? 'bundle' : `kubernetes, namespace ${namespace ?? ''}`}; keys: ${keys.join(', ')})\n`)
    ctx.stderr.write(`next: commit ${paths.deployment} and open a pull request; the deploy job renders ${recipient !== undefined ? 'its bundle' : 'its Secret'} on merge\n`)
    return ExitCode.ok
}

export const command: Command = {
    name: 'agent',
    summary: 'Bootstrap an agent: create a host identity, register it in deployment.yaml, or sync its signed bundle',
    usage: 'agent <init [--out FILE] [--env ENV --name NAME --repo OWNER/REPO] | register <env> <name> --keys … --cloud … (--recipient age1… | --namespace NS) | sync <url> --out DIR [--exec CMD]>',
    positionals: [1, 3],
    help: `init      on the host: create its age identity (mode 0600; default
          ~/${DEFAULT_AGENT_IDENTITY}) and print its recipient. Re-running keeps the
          existing identity and prints its recipient again, then the register and
          sync commands to run (filled in with --env, --name and --repo).
register  in the repository: add the agent to environments/<env>/deployment.yaml
          (comments and order kept). With --recipient it is a bundle target (the host
          decrypts its own age bundle), otherwise a kubernetes target in --namespace.
          Refuses a duplicate name, a bad recipient, or a result with findings;
          nothing is written then.
sync      on the host: keep --out DIR in the shape of a Kubernetes Secret volume
          (..data swaps, one 0400 file per key) from the signed bundle at <url>
          (the keyfleet/bundles branch through the GitHub contents API, or any
          HTTPS URL). Verifies the signature against --signing-key-file, refuses
          other agents' and older bundles, keeps the last good keys through any
          failure, and caches the bundle (encrypted) so an offline restart starts.
          --exec CMD runs after each new key set. Runs until stopped (docs/hosts.md).

Examples:
  keyfleet agent init
  keyfleet agent register dev bob-laptop --recipient age1… --keys claude,openai --cloud local
  keyfleet agent register prod summarizer --namespace agents-prod --keys claude --cloud gcp
  keyfleet agent sync 'https://api.github.com/repos/acme/fleet/contents/prod/bob-laptop.bundle?ref=keyfleet/bundles' --signing-key-file signing.pub --out ~/.local/state/keyfleet/bob-laptop`,
    options: {
        out: { type: 'string', arg: 'PATH', description: `init: identity file (default ~/${DEFAULT_AGENT_IDENTITY}); sync: the directory to keep` },
        pq: { type: 'boolean', description: 'init: post-quantum hybrid identity (age1pq1…)' },
        recipient: { type: 'string', arg: 'AGE1', description: 'register: the host\'s recipient (bundle target)' },
        namespace: { type: 'string', arg: 'NS', description: 'register: Kubernetes namespace (kubernetes target)' },
        keys: { type: 'string', multiple: true, arg: 'LIST', description: 'register: names or services, comma-separated' },
        cloud: { type: 'string', arg: 'CLOUD', description: 'register: aws, azure, gcp, onprem or local' },
        env: { type: 'string', arg: 'ENV', description: 'init: the environment, for the printed commands' },
        name: { type: 'string', arg: 'NAME', description: 'init: the agent name, for the printed commands' },
        repo: { type: 'string', arg: 'OWNER/REPO', description: 'init: the GitHub repository, for the printed sync URL' },
        ...syncOptions,
    },
    run: async (args, ctx) => {
        const action = args.positionals[0]
        if (action === 'init') return init(args, ctx)
        if (action === 'register') return register(args, ctx)
        if (action === 'sync') return runSync(args, ctx)
        throw new KeyfleetError('USAGE', `unknown action "${String(action).slice(0, 20)}"; expected init, register or sync`)
    },
}
