/**
 * `keyfleet agent sync <url> --out DIR`: the pull channel for hosts whose
 * agent is not Node. A long-running process (systemd- and launchd-friendly:
 * logs to stderr, stops on SIGTERM/SIGINT with 143/130 like every keyfleet command) that
 * keeps DIR in the shape of a Kubernetes Secret volume with the loader's own
 * remote source: same signature, rollback and agent checks, same backoff and
 * encrypted cache. `--exec` runs a command after each new key set (restart
 * or signal a process that cannot reload); it gets `KEYFLEET_SECRETS_PATH`,
 * never a value.
 */
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { systemCause } from '../../loader/errors.js'
import { RemoteSource } from '../../loader/remote.js'
import { resolveRemote } from '../../loader/remote-options.js'
import { declared, nextDeployed, type Deployed } from '../../loader/deployed.js'
import { serveStatus, statusHandler, STATUS_PATH } from '../../loader/status.js'
import type { BundleInfo } from '../../loader/decrypt.js'
import type { CliContext, CommandArgs } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { generationEntry } from '../../render/generation.js'
import { writeVolume } from './agent-volume.js'

/** Default identity path (as `agent init` writes it), relative to HOME. */
const DEFAULT_IDENTITY = '.config/keyfleet/agent.agekey'

/** Options of `agent sync`, merged into the `agent` command's options. */
export const syncOptions = {
    'signing-key-file': { type: 'string', arg: 'FILE', description: 'sync: the environment\'s signing.pub (default $KEYFLEET_SIGNING_KEY_FILE)' },
    'identity-file': { type: 'string', arg: 'FILE', description: `sync: the host identity (default $KEYFLEET_AGE_KEY_FILE, else ~/${DEFAULT_IDENTITY})` },
    'token-file': { type: 'string', arg: 'FILE', description: 'sync: bearer token for a private channel (default $KEYFLEET_SECRETS_TOKEN_FILE)' },
    poll: { type: 'string', arg: 'SECONDS', description: 'sync: poll interval (default 10)' },
    exec: { type: 'string', arg: 'CMD', description: 'sync: run this (sh -c) after each new key set' },
    'cache-dir': { type: 'string', arg: 'DIR', description: 'sync: encrypted last-good cache (default ~/.cache/keyfleet)' },
    'agent-name': { type: 'string', arg: 'NAME', description: 'sync: refuse bundles for any other agent (default: pinned on first use)' },
    'status-port': { type: 'string', arg: 'PORT', description: 'sync: serve the loader\'s status (what DIR holds) for `rollout status` via status_url (0: any free port)' },
    'status-host': { type: 'string', arg: 'HOST', description: 'sync: address of the status server (default 127.0.0.1)' },
    once: { type: 'boolean', description: 'sync: sync once and exit (0 when DIR holds the newest verified bundle, 2 when it could not be written)' },
} as const

const runExec = (ctx: CliContext, command: string, dir: string): void => {
    // The channel token (and where it lives) is the sync's own credential, never the reloaded program's.
    const env = Object.fromEntries(Object.entries(ctx.env).filter(([name]) => !name.startsWith('KEYFLEET_SECRETS_TOKEN')))
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, KEYFLEET_SECRETS_PATH: dir } })
    child.on('error', () => { ctx.stderr.write('keyfleet agent sync: --exec could not start sh\n') })
    child.on('exit', (code) => { if (code !== 0) ctx.stderr.write(`keyfleet agent sync: --exec exited ${String(code)}\n`) })
}

/**
 * Runs the sync until a signal (or once with `--once`).
 * @throws KeyfleetError `USAGE`, `LOADER_REMOTE_OPTIONS`.
 */
export const runSync = async ({ positionals, values }: CommandArgs, ctx: CliContext): Promise<number> => {
    const url = positionals[1]
    const outValue = values.out as string | undefined
    if (url === undefined || outValue === undefined || positionals.length > 2) throw new KeyfleetError('USAGE', 'expected: keyfleet agent sync <url> --out DIR [--signing-key-file FILE] [--identity-file FILE] [--exec CMD]')
    const out = resolve(ctx.cwd, outValue)
    const poll = values.poll === undefined ? 10 : Number(values.poll)
    if (!Number.isFinite(poll) || poll < 0.1) throw new KeyfleetError('USAGE', '--poll is a number of seconds (at least 0.1), e.g. --poll 5')
    const str = (name: string): string | undefined => values[name] as string | undefined
    const identityFile = str('identity-file') ?? (ctx.env.KEYFLEET_AGE_KEY_FILE || undefined) ?? (ctx.env.HOME ? join(ctx.env.HOME, DEFAULT_IDENTITY) : undefined)
    if (identityFile === undefined) throw new KeyfleetError('USAGE', 'pass --identity-file FILE (HOME is not set)')
    const remote = resolveRemote({
        url, signingKeyFile: str('signing-key-file'), tokenFile: str('token-file'), pollMs: poll * 1000, agent: str('agent-name'),
        ...(str('cache-dir') !== undefined ? { cacheDir: resolve(ctx.cwd, str('cache-dir') as string) } : {}),
    }, ctx.env) as NonNullable<ReturnType<typeof resolveRemote>>
    const exec = str('exec')
    const statusPort = str('status-port') === undefined ? undefined : Number(str('status-port'))
    if (statusPort !== undefined && !(Number.isInteger(statusPort) && statusPort >= 0 && statusPort <= 65535)) throw new KeyfleetError('USAGE', '--status-port is a TCP port (0-65535), e.g. --status-port 9469')
    // What DIR holds, for the status server: the same document a loader reading DIR would serve.
    let deployed: Deployed | undefined
    let bundle: BundleInfo | undefined
    let names: string[] = []
    let lastChangeMs: number | undefined
    let problem: KeyfleetError | undefined
    let applied = 0
    // Whether the newest verified bundle failed to reach DIR: `--once` must not exit 0 on old keys.
    let writeFailed = false
    const source = new RemoteSource(remote, { identityFile: resolve(ctx.cwd, identityFile) }, true, {
        apply: ({ entries, header, info }) => {
            writeFailed = true
            const { environment, agent, generation, weights } = info
            const entry = environment !== undefined && agent !== undefined && generation !== undefined ? generationEntry(environment, agent, generation, weights) : undefined
            const skipped = writeVolume(out, entries, entry)
            writeFailed = false
            applied++
            const written = new Map([...entries].filter(([n]) => !skipped.includes(n)))
            deployed = nextDeployed(written, declared(environment, agent, generation, weights), deployed, Date.now())
            bundle = info
            names = [...written.keys()].sort()
            lastChangeMs = Date.now()
            ctx.stderr.write(`keyfleet agent sync: ${out} now holds generation ${header.generation} of ${header.agent} (${header.environment}, issued ${new Date(header.issuedAt).toISOString()}): ${[...entries.keys()].filter((n) => !skipped.includes(n)).join(', ') || 'no keys'}\n`)
            if (skipped.length > 0) ctx.stderr.write(`keyfleet agent sync: skipped ${skipped.length} names that are not safe file names\n`)
            if (exec !== undefined && applied > 1) runExec(ctx, exec, out)
        },
        problem: (error, fresh) => { problem = error; if (fresh) ctx.stderr.write(`keyfleet agent sync: ${error.code}: ${error.message}\n`) },
        healthy: () => { problem = undefined },
    })
    if (statusPort !== undefined) {
        const handler = statusHandler(() => ({
            deployed, generation: applied, names, lastChangeMs,
            source: { path: out, kind: bundle && 'age-bundle', bundle, mode: 'poll', problem },
        }))
        const server = await serveStatus(handler, { port: statusPort, host: str('status-host') }, values.once !== true).catch((error: unknown) => {
            throw new KeyfleetError('USAGE', `--status-port: cannot listen on ${str('status-host') ?? '127.0.0.1'}:${statusPort} (${systemCause(error).message}); pick another port`)
        })
        ctx.stderr.write(`keyfleet agent sync: status at ${server.url}${STATUS_PATH} (status_url in deployment.yaml)\n`)
    }
    ctx.stderr.write(`keyfleet agent sync: polling ${remote.display} every ${poll} s into ${out}\n`)
    await source.start()
    if (values.once === true) {
        source.close()
        return source.held === undefined || writeFailed ? ExitCode.usage : ExitCode.ok
    }
    // Runs until a signal: src/cli/main.ts exits on SIGTERM/SIGINT; every write above is atomic, so DIR is whole whenever that lands.
    return new Promise<number>(() => undefined)
}
