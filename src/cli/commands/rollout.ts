/**
 * `keyfleet rollout status <env>`: which agents serve the generation the last
 * render produced. Expected ids are recomputed from the repository (decrypted
 * in process); pods are read through the API server with kubectl and the
 * current kubeconfig, hosts through `status_url`. Names and ids only.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { KeyfleetError } from '../../errors.js'
import { readRollout, rolloutMarkdown, rolloutRows, rolloutVerdict, parseDuration, waitForRollout, type RolloutReport } from '../../lifecycle/rollout.js'
import { expectedAgents, kubectlReader } from '../../lifecycle/rollout-read.js'
import { isDemoRepository } from '../../repo/demo.js'
import { environmentPaths } from '../../repo/layout.js'
import { renderEnvironment, type Deployment } from '../../render/index.js'
import type { CliContext, Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { decryptNative, nativeIdentities, repoRootFor } from '../repo-context.js'
import { renderTable } from '../table.js'
import { loadDeployment } from './registry.js'

/** What the last render gave each agent: the deployment and its generation ids, recomputed from the repository at `root`. */
export const lastRender = async (ctx: CliContext, root: string, env: string, identityFiles: readonly string[]): Promise<{ deployment: Deployment; generation: Readonly<Record<string, string>> } | undefined> => {
    const { catalog, deployment } = loadDeployment(root, env, ctx)
    if (!deployment) return undefined
    const identities = nativeIdentities(ctx, identityFiles)
    const secretsFile = environmentPaths(env).secrets
    if (identities.length === 0) {
        throw new KeyfleetError('NATIVE_NO_MATCHING_IDENTITY', `no age identity to decrypt ${secretsFile} (the expected generation ids are recomputed from it): pass --identity-file FILE or set SOPS_AGE_KEY / SOPS_AGE_KEY_FILE`)
    }
    let text: string
    try {
        text = readFileSync(join(root, secretsFile), 'utf8')
    } catch (cause) {
        throw new KeyfleetError('SECRETS_NOT_FOUND', `cannot read ${secretsFile}: create the environment with \`keyfleet set ${env} NAME\``, { cause: (cause as NodeJS.ErrnoException).code, file: secretsFile })
    }
    const values = (await decryptNative(text, { store: 'dotenv', identities, file: secretsFile })).toEnvMap()
    const out = await renderEnvironment({ env, values, deployment, catalog, allowDemoRecipients: isDemoRepository(root) })
    return { deployment, generation: out.generation }
}

/** Reads (and with `waitMs` waits for) the rollout of `env` with kubectl from `ctx.env`. */
export const rolloutOf = async (ctx: CliContext, env: string, deployment: Deployment, generation: Readonly<Record<string, string>>, waitMs: number | undefined): Promise<RolloutReport> => {
    const reader = kubectlReader({ kubectl: ctx.env.KEYFLEET_KUBECTL || 'kubectl', env: ctx.env })
    const agents = expectedAgents(deployment, generation)
    if (waitMs === undefined) return readRollout(env, agents, reader)
    return waitForRollout(env, agents, reader, waitMs, async (ms) => { await sleep(ms); return true })
}

/** Prints a report as a table, JSON or markdown. */
export const printRollout = (ctx: CliContext, report: RolloutReport, format: 'table' | 'json' | 'markdown'): void => {
    if (format === 'json') ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else if (format === 'markdown') ctx.stdout.write(rolloutMarkdown(report))
    else ctx.stdout.write(`${renderTable(['AGENT', 'TARGET', 'STATE', 'EXPECTED', 'SERVING', 'NOTE'], rolloutRows(report))}${rolloutVerdict(report)}\n`)
}

export const command: Command = {
    name: 'rollout status',
    summary: 'Show which agents serve the generation the last render produced (pods via the API server, hosts via status_url)',
    usage: 'rollout status <env> [--wait] [--timeout 10m] [--json | --markdown] [--identity-file FILE]',
    help: `Recomputes each agent's generation id from environments/<env> (decrypted in process,
identity from --identity-file, SOPS_AGE_KEY or SOPS_AGE_KEY_FILE) and asks every agent
which generation it serves:
  kubernetes: the Deployment's selector, its Running pods, then each pod's status server
              (keys.serveStatus, port status_port, default 9469) through the API server's
              pod proxy: kubectl get --raw /api/v1/namespaces/NS/pods/POD:PORT/proxy/keyfleet/status,
              with the current kubeconfig (KUBECONFIG); no port is exposed outside the cluster
  bundle:     GET status_url from deployment.yaml; without one the host is unknown
States: current (every pod serves the render), behind (one serves another generation),
unknown (cannot be read). RBAC: deployments get, pods list, pods/proxy get.
Exit: 0 every agent current, 1 some behind or unknown (after --timeout with --wait),
2 usage, 3 cannot decrypt.

Examples:
  keyfleet rollout status prod --identity-file ~/.config/sops/age/keys.txt
  keyfleet rollout status prod --wait --timeout 5m --json`,
    options: {
        wait: { type: 'boolean', description: 'read again every 2 s until every agent is current or --timeout passed' },
        timeout: { type: 'string', arg: 'DURATION', description: 'how long --wait waits (10m, 90s, 1h; default 10m)' },
        json: { type: 'boolean', description: 'print the report as JSON (rollout/v1)' },
        markdown: { type: 'boolean', description: 'print a markdown table and a mermaid chart (for a CI step summary)' },
        'identity-file': { type: 'string', multiple: true, arg: 'FILE', description: 'age identity file (keys.txt format)' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: found from the current directory)' },
    },
    positionals: [1, 1],
    run: async (args, ctx) => {
        const env = args.positionals[0] as string
        if (args.values.json === true && args.values.markdown === true) throw new KeyfleetError('USAGE', 'choose one of --json and --markdown')
        const waitMs = args.values.wait === true ? parseDuration(typeof args.values.timeout === 'string' ? args.values.timeout : '10m', '--timeout') : undefined
        if (waitMs === undefined && args.values.timeout !== undefined) throw new KeyfleetError('USAGE', '--timeout only applies with --wait')
        const root = repoRootFor(ctx, args.values.root)
        const last = await lastRender(ctx, root, env, ([] as unknown[]).concat(args.values['identity-file'] ?? []).map(String))
        if (!last) return ExitCode.findings
        const report = await rolloutOf(ctx, env, last.deployment, last.generation, waitMs)
        printRollout(ctx, report, args.values.json === true ? 'json' : args.values.markdown === true ? 'markdown' : 'table')
        return report.complete ? ExitCode.ok : ExitCode.findings
    },
}
