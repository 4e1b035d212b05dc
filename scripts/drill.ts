/**
 * `npm run drill`: the whole zero-downtime rotation, end to end, on loopback.
 *
 * - a fake provider (scripts/drill-provider.ts) that accepts exactly the
 *   active keys, counts every call by key, result and agent, and serves
 *   OpenAI's project API keys admin API (step c deletes the old key there);
 * - N Kubernetes agents (default 20; scripts/drill-agent.ts), each with its own
 *   Secret volume written by the kubelet's real AtomicWriter (the Go code,
 *   `.tools/bin/atomic-writer` from tools/kube) when present, else our
 *   TypeScript copy of its sequence (test/loader/kubelet.ts; it says which,
 *   and KEYFLEET_REQUIRE_KUBE=1 makes the copy an error);
 * - H hosts (default 20 % of N, at least 2) that get their keys through the
 *   signed pull channel as docs/hosts.md sets one up: half open it in process
 *   (`openKeys({ url, signingKeyFile, identityFile, pollMs })`), half run
 *   `keyfleet agent sync` into a directory their agent loads; each has a
 *   `status_url` in deployment.yaml, so rollout status waits for them too;
 * - every agent calls the provider in a loop through the loader's pool
 *   (`preferNewest`);
 * - a fake API server whose pod proxy reaches each pod's status server, read
 *   by the real kubectl (test/cli/rollout-kube.test.ts uses a real kube-apiserver);
 * - the deploy as the deploy workflow runs it (scripts/drill-channel.ts): the
 *   committed action bundle's `render`, then its `publish` (signed bundles
 *   pushed to the bundles branch of the repository's origin and PUT to a
 *   loopback object store the hosts poll), then every Secret volume swapped;
 * - the real CLI on a copy of the demo repository with the pinned sops:
 *   rotate-key --new (set) → commit → deploy → rotate-key --wait (rollout
 *   confirmed, old key removed) → commit → deploy → rotate-key --wait
 *   --admin-key-file (confirmed again, revoked at the fake provider).
 *
 * Prints, overall and by kind (kubernetes, host): calls made, calls failed
 * (goal 0), time from merge to the last agent on the new key, and calls that
 * still used the old key after the revocation (goal 0); and the time until the
 * old key could be revoked. Names and counts only.
 */
import { type ChildProcess } from 'node:child_process'
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { generateIdentity } from '../src/age/identity.js'
import { runCli } from '../src/cli/run.js'
import { formatPrivateKey, formatPublicKey, generateSigningKey } from '../src/sign/keys.js'
import { fakeApiServer, fakeKubeconfig, type Pod } from '../test/cli/rollout-helpers.js'
import { volumeWriters } from '../test/loader/kubelet-go.js'
import { printable, runActionStep, startChannel } from './drill-channel.js'
import { startAgent, startSync, stopAgent, type AgentProcess } from './drill-fleet.js'
import { PROJECT, startProvider } from './drill-provider.js'
import { drillArgs, drillTable, type AgentKind, type DrillResult, type KindResult } from './drill-report.js'

/** Options of {@link runDrill}. */
export interface DrillOptions {
    /** Kubernetes agent processes; default 20. */
    readonly agents?: number
    /** Hosts on the pull channel; default 20 % of `agents`, at least 2 (0: none). */
    readonly hosts?: number
    /** Pause between an agent's calls, ms; default 50. */
    readonly intervalMs?: number
    /** How often a host polls its bundle, ms; default 1000. */
    readonly hostPollMs?: number
    /** How long the agents keep calling after the revocation, ms; default 1000. */
    readonly afterRevokeMs?: number
    readonly log?: (line: string) => void
}

export type { AgentKind, DrillResult, KindResult } from './drill-report.js'
export { drillArgs, drillTable } from './drill-report.js'

const findRoot = (): string => {
    for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
        if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'environments', 'keyfleet.yaml'))) return dir
    }
    throw new Error('drill: cannot find the keyfleet checkout')
}

const tool = (root: string, name: string, envName: string): string => {
    const fromEnv = process.env[envName]
    if (fromEnv) return fromEnv
    const pinned = join(root, '.tools', 'bin', name)
    try { accessSync(pinned, constants.X_OK); return pinned } catch { return name }
}

const key = (): string => `sk-proj-drill${randomBytes(24).toString('hex')}`
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/** Runs the drill; resolves with the measurements. */
export const runDrill = async (options: DrillOptions = {}): Promise<DrillResult> => {
    const n = options.agents ?? 20
    const h = options.hosts ?? Math.max(2, Math.round(n / 5))
    const log = options.log ?? ((): void => undefined)
    const root = findRoot()
    const writers = volumeWriters()
    log(`drill: Secret volumes written by ${writers.reason}`)
    const work = mkdtempSync(join(tmpdir(), 'keyfleet-drill-'))
    const repo = join(work, 'repo')
    const servers: Server[] = []
    const children: ChildProcess[] = []
    try {
        for (const part of ['.sops.yaml', 'environments', 'examples/demo-keys']) cpSync(join(root, part), join(repo, part), { recursive: true })
        const identity = join(repo, 'examples', 'demo-keys', 'dev.agekey')
        const git = (...args: string[]): void => { execFileSync('git', args, { cwd: repo, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'drill', GIT_AUTHOR_EMAIL: 'd@d', GIT_COMMITTER_NAME: 'drill', GIT_COMMITTER_EMAIL: 'd@d' } }) }
        const names = Array.from({ length: n }, (_, i) => `drill-${i}`)
        const hostNames = Array.from({ length: h }, (_, i) => `host-${i}`)
        const kindOf = new Map<string, AgentKind>([...names.map((a) => [a, 'kubernetes'] as const), ...hostNames.map((a) => [a, 'host'] as const)])
        // Each host: its own age identity (agent init), the pinned signing.pub, a cache directory.
        const signing = generateSigningKey('keyfleet-signing:dev')
        const hostDirs = hostNames.map((a) => join(work, 'hosts', a))
        const recipients = await Promise.all(hostDirs.map(async (dir) => {
            mkdirSync(dir, { recursive: true })
            const made = await generateIdentity()
            writeFileSync(join(dir, 'agent.agekey'), `${made.identity}\n`, { mode: 0o600 })
            writeFileSync(join(dir, 'signing.pub'), formatPublicKey(signing.publicKey))
            return made.recipient
        }))
        writeFileSync(join(repo, 'environments', 'dev', 'signing.pub'), formatPublicKey(signing.publicKey))
        const deploymentFile = join(repo, 'environments', 'dev', 'deployment.yaml')
        writeFileSync(deploymentFile, `environment: dev\nagents:\n${names.map((a) => `  - name: ${a}\n    cloud: local\n    target: kubernetes\n    namespace: drill\n    keys: [openai]\n`).join('')}${hostNames.map((a, i) => `  - name: ${a}\n    cloud: local\n    target: bundle\n    recipient: ${recipients[i] ?? ''}\n    keys: [openai]\n`).join('')}`)
        // The repository's origin, where publish pushes the bundles branch (GitHub in production).
        execFileSync('git', ['init', '-q', '--bare', join(work, 'origin.git')], { stdio: 'ignore' })
        git('init', '-q', '-b', 'main'); git('remote', 'add', 'origin', join(work, 'origin.git')); git('add', '-A'); git('commit', '-q', '-m', 'drill fleet')

        // The provider: exactly the active keys work; the admin API deletes one.
        const old = /^OPENAI_API_KEY=(.*)$/m.exec(execFileSync(tool(root, 'sops', 'KEYFLEET_SOPS'), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets'], { cwd: repo, encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: identity } }))?.[1] as string
        const fresh = key()
        const adminKey = `sk-admin-drill${randomBytes(8).toString('hex')}`
        const provider = await startProvider(old, fresh, adminKey)
        servers.push(provider.server)
        const channel = await startChannel()
        servers.push(channel.server)

        const pods: Pod[] = []
        const api = await fakeApiServer(pods)
        servers.push(api.server)
        const env: Record<string, string | undefined> = {
            PATH: process.env.PATH, HOME: process.env.HOME, KEYFLEET_SOPS: tool(root, 'sops', 'KEYFLEET_SOPS'),
            KUBECONFIG: fakeKubeconfig(work, api.url), KEYFLEET_KUBECTL: tool(root, 'kubectl', 'KEYFLEET_KUBECTL'),
        }
        const cli = async (argv: string[], stdin?: string): Promise<{ code: number; out: string }> => {
            const out = new PassThrough()
            const chunks: Buffer[] = []
            out.on('data', (c: Buffer) => chunks.push(c))
            const code = await runCli(argv, { cwd: repo, env, stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]), stdout: out, stderr: out })
            return { code, out: Buffer.concat(chunks).toString('utf8') }
        }
        const must = async (argv: string[], stdin?: string): Promise<void> => {
            const r = await cli(argv, stdin)
            if (r.code !== 0) throw new Error(`drill: keyfleet ${argv.slice(0, 3).join(' ')} exited ${r.code}:\n${r.out}`)
        }
        const volumes = names.map((a) => writers.make(join(work, 'pods', a, 'keys')))
        const ageKey = readFileSync(identity, 'utf8')
        const signingText = formatPrivateKey(signing)
        /** The deploy, as the deploy workflow runs it: the action's render and publish, then each kubelet swaps its volume. */
        const deployTimes: number[] = []
        const deploy = async (): Promise<void> => {
            const started = performance.now()
            const out = join(work, `render-${deployTimes.length}`)
            const render = await runActionStep(root, repo, { command: 'render', environment: 'dev', 'age-key': ageKey, 'out-dir': out }, env)
            if (render.code !== 0) throw new Error(`drill: the action's render exited ${String(render.code)}:\n${printable(render.out)}`)
            if (h > 0) {
                const publish = await runActionStep(root, repo, { command: 'publish', environment: 'dev', 'out-dir': out, agents: render.outputs.agents ?? '', 'signing-key': signingText, 'publish-url': `${channel.origin}/channel/{environment}/{agent}.bundle` }, env)
                if (publish.code !== 0) throw new Error(`drill: the action's publish exited ${String(publish.code)}:\n${printable(publish.out)}`)
            }
            // Every kubelet updates its own pod's volume, independently of the others.
            await Promise.all(names.map(async (a, i) => {
                const secret = parseYaml(readFileSync(join(out, 'drill', 'secrets', `${a}.yaml`), 'utf8')) as { data: Record<string, string> }
                await volumes[i]?.write(Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64')])))
            }))
            rmSync(out, { recursive: true, force: true })
            deployTimes.push(performance.now() - started)
        }
        await deploy()

        // Beside this file when it runs built; from the build when a test runs the source.
        const sibling = (name: string): string => {
            const here = join(dirname(fileURLToPath(import.meta.url)), `${name}.js`)
            return existsSync(here) ? here : join(root, 'dist', 'scripts', `${name}.js`)
        }
        const agentScript = sibling('drill-agent')
        const cliMain = join(root, 'dist', 'cli', 'main.js')
        const intervalMs = options.intervalMs ?? 50
        const pollMs = options.hostPollMs ?? 1000
        const base = { providerUrl: provider.url, intervalMs }
        const kube = await Promise.all(names.map((a, i) => startAgent(agentScript, { ...base, name: a, path: volumes[i]?.dir ?? '' }, children)))
        const hosts = await Promise.all(hostNames.map(async (a, i): Promise<{ agent: AgentProcess; statusUrl: string }> => {
            const dir = hostDirs[i] as string
            const url = `${channel.origin}/channel/dev/${a}.bundle`
            const files = { signingKeyFile: join(dir, 'signing.pub'), identityFile: join(dir, 'agent.agekey'), cacheDir: join(dir, 'cache') }
            if (i % 2 === 0) {
                const agent = await startAgent(agentScript, { ...base, name: a, url, ...files, pollMs }, children)
                return { agent, statusUrl: `http://127.0.0.1:${agent.port}/keyfleet/status` }
            }
            const out = join(dir, 'keys')
            const sync = await startSync(cliMain, [url, '--out', out, '--signing-key-file', files.signingKeyFile, '--identity-file', files.identityFile, '--cache-dir', files.cacheDir, '--poll', String(pollMs / 1000)], children, a)
            return { agent: await startAgent(agentScript, { ...base, name: a, path: out }, children), statusUrl: sync.statusUrl }
        }))
        names.forEach((a, i) => { pods.push({ ns: 'drill', name: `${a}-0`, app: a, port: kube[i]?.port ?? 0 }) })
        let text = readFileSync(deploymentFile, 'utf8')
        names.forEach((a, i) => { text = text.replace(`name: ${a}\n`, `name: ${a}\n    status_port: ${kube[i]?.port ?? 0}\n`) })
        hostNames.forEach((a, i) => { text = text.replace(`name: ${a}\n`, `name: ${a}\n    status_url: ${hosts[i]?.statusUrl ?? ''}\n`) })
        writeFileSync(deploymentFile, text)
        git('commit', '-qam', 'status ports and URLs')
        log(`drill: ${n} kubernetes agents and ${h} hosts (${Math.ceil(h / 2)} openKeys({ url }), ${Math.floor(h / 2)} agent sync) calling ${provider.url} with the old key`)

        // a: the provider issues the new key, the pipeline adds it beside the old one.
        provider.active.add(fresh)
        await must(['rotate-key', 'dev', 'OPENAI_API_KEY', '--new', '--identity-file', identity], `${fresh}\n`)
        git('commit', '-qam', 'rotate-key a')
        const merged = performance.now()
        log('drill: step a merged; deploying')
        await deploy()
        // b: waits (pod proxy, status_url) until every agent serves the render, then removes the old key.
        await must(['rotate-key', 'dev', 'OPENAI_API_KEY', '--wait', '--timeout', '5m', '--identity-file', identity])
        git('commit', '-qam', 'rotate-key b')
        log('drill: step b merged; deploying')
        await deploy()
        // c: once every agent is confirmed again, revokes the old key at the provider.
        writeFileSync(join(work, 'admin.key'), adminKey, { mode: 0o600 })
        await must(['rotate-key', 'dev', 'OPENAI_API_KEY', '--wait', '--timeout', '5m', '--identity-file', identity, '--admin-key-file', join(work, 'admin.key'), '--openai-project', PROJECT, '--admin-base-url', provider.url])
        if (provider.revokedAt() === Infinity) throw new Error('drill: step c did not revoke the old key')
        log('drill: old key revoked; agents keep calling')
        await new Promise((resolve) => { setTimeout(resolve, options.afterRevokeMs ?? 1000) })

        const stats = new Map<string, { calls: number; failed: number }>()
        await Promise.all([...names.map((a, i) => [a, kube[i]] as const), ...hostNames.map((a, i) => [a, hosts[i]?.agent] as const)]
            .map(async ([a, agent]) => { if (agent) stats.set(a, await stopAgent(agent)) }))
        const kind = (k: AgentKind): KindResult => {
            const members = [...kindOf].filter(([, v]) => v === k).map(([a]) => a)
            return {
                agents: members.length,
                calls: members.reduce((s, a) => s + (stats.get(a)?.calls ?? 0), 0),
                failed: members.reduce((s, a) => s + (stats.get(a)?.failed ?? 0), 0),
                mergeToLastNewMs: members.length === 0 ? 0 : Math.max(...members.map((a) => provider.firstNew.get(a) ?? Infinity)) - merged,
                oldAfterRevoke: members.reduce((s, a) => s + (provider.oldAfterRevoke.get(a) ?? 0), 0),
            }
        }
        const byKind = { kubernetes: kind('kubernetes'), host: kind('host') }
        return {
            agents: n, hosts: h, hostsVia: { url: Math.ceil(h / 2), sync: Math.floor(h / 2) }, writer: writers.kind,
            calls: byKind.kubernetes.calls + byKind.host.calls,
            failed: byKind.kubernetes.failed + byKind.host.failed,
            byKey: provider.byKey, byKind,
            mergeToLastNewMs: Math.max(byKind.kubernetes.mergeToLastNewMs, h > 0 ? byKind.host.mergeToLastNewMs : 0),
            mergeToRevocableMs: provider.revokedAt() - merged,
            oldAfterRevoke: [...provider.oldAfterRevoke.values()].reduce((s, x) => s + x, 0),
            deployMs: median(deployTimes),
        }
    } finally {
        for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
        for (const s of servers) s.close()
        rmSync(work, { recursive: true, force: true })
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const args = drillArgs(process.argv.slice(2), process.env)
    const result = await runDrill({ agents: args.agents, hosts: args.hosts, log: (line) => { process.stderr.write(`${line}\n`) } })
    process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : drillTable(result))
    process.exitCode = result.failed === 0 && result.oldAfterRevoke === 0 ? 0 : 1
}
