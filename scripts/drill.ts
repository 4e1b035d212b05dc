/**
 * `npm run drill`: the whole zero-downtime rotation, end to end, on loopback.
 *
 * - a fake provider that accepts exactly the active keys, counts every call
 *   by key and result, and serves OpenAI's project API keys admin API (the
 *   revoke step deletes the old key there);
 * - N agent processes (default 20; scripts/drill-agent.ts), each with its own
 *   Kubernetes-style mount written in the kubelet's AtomicWriter sequence (the
 *   TypeScript copy in test/loader/kubelet.ts, not the Go original), calling
 *   the provider in a loop through the loader's pool (`preferNewest`);
 * - a fake API server whose pod proxy reaches each agent's status server, read
 *   by the real kubectl (test/cli/rollout-kube.test.ts uses a real kube-apiserver);
 * - the real CLI on a copy of the demo repository with the pinned sops:
 *   rotate-key --new (set) → commit → render → swap every mount → rollout
 *   confirms → rotate-key (remove old) → commit → render → swap → rotate-key
 *   (revoke at the fake provider).
 *
 * Prints calls made, calls failed (goal 0), time from merge to the last agent
 * on the new key, time until the old key could be revoked, and calls that
 * still used the old key after the revocation (goal 0). Names and counts only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { runCli } from '../src/cli/run.js'
import { fakeApiServer, fakeKubeconfig, type Pod } from '../test/cli/rollout-helpers.js'
import { KubeletVolume, type Payload } from '../test/loader/kubelet.js'

/** Options of {@link runDrill}. */
export interface DrillOptions {
    /** Agent processes; default 20. */
    readonly agents?: number
    /** Pause between an agent's calls, ms; default 50. */
    readonly intervalMs?: number
    /** How long the agents keep calling after the revocation, ms; default 1000. */
    readonly afterRevokeMs?: number
    readonly log?: (line: string) => void
}

/** What the drill measured. */
export interface DrillResult {
    readonly agents: number
    readonly calls: number
    /** Calls no key could serve, as the agents counted them. */
    readonly failed: number
    /** Provider answers by key (`old`, `new`) and HTTP status. */
    readonly byKey: Readonly<Record<string, Readonly<Record<string, number>>>>
    /** From the merge of step a to the last agent's first call with the new key. */
    readonly mergeToLastNewMs: number
    /** From the merge of step a until the old key was revoked (rollout confirmed twice). */
    readonly mergeToRevocableMs: number
    /** Calls the provider saw with the old key after it was revoked. */
    readonly oldAfterRevoke: number
    /** Median time of one deploy (render + every mount swapped) in this run, for comparison. */
    readonly deployMs: number
}

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

/** Runs the drill; resolves with the measurements. */
export const runDrill = async (options: DrillOptions = {}): Promise<DrillResult> => {
    const n = options.agents ?? 20
    const log = options.log ?? ((): void => undefined)
    const root = findRoot()
    const work = mkdtempSync(join(tmpdir(), 'keyfleet-drill-'))
    const repo = join(work, 'repo')
    const servers: Server[] = []
    const children: ChildProcess[] = []
    try {
        for (const part of ['.sops.yaml', 'environments', 'examples/demo-keys']) cpSync(join(root, part), join(repo, part), { recursive: true })
        const identity = join(repo, 'examples', 'demo-keys', 'dev.agekey')
        const git = (...args: string[]): void => { execFileSync('git', args, { cwd: repo, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'drill', GIT_AUTHOR_EMAIL: 'd@d', GIT_COMMITTER_NAME: 'drill', GIT_COMMITTER_EMAIL: 'd@d' } }) }
        const names = Array.from({ length: n }, (_, i) => `drill-${i}`)
        const deploymentFile = join(repo, 'environments', 'dev', 'deployment.yaml')
        writeFileSync(deploymentFile, `environment: dev\nagents:\n${names.map((a) => `  - name: ${a}\n    cloud: local\n    target: kubernetes\n    namespace: drill\n    keys: [openai]\n`).join('')}`)
        git('init', '-q', '-b', 'main'); git('add', '-A'); git('commit', '-q', '-m', 'drill fleet')

        // The provider: exactly the active keys work; the admin API deletes one.
        const old = /^OPENAI_API_KEY=(.*)$/m.exec(execFileSync(tool(root, 'sops', 'KEYFLEET_SOPS'), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets'], { cwd: repo, encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: identity } }))?.[1] as string
        const fresh = key()
        const active = new Set([old])
        const label = (k: string): string => (k === old ? 'old' : k === fresh ? 'new' : 'other')
        const byKey: Record<string, Record<string, number>> = {}
        const firstNew = new Map<string, number>()
        let revokedAt = Infinity
        let oldAfterRevoke = 0
        const adminKey = `sk-admin-drill${randomBytes(8).toString('hex')}`
        const provider = createServer((req, res) => {
            const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
            if (req.url === '/v1/models') {
                const status = active.has(auth) ? 200 : 401
                const l = label(auth)
                const counts = byKey[l] ??= {}
                counts[status] = (counts[status] ?? 0) + 1
                const now = performance.now()
                if (l === 'new' && status === 200 && !firstNew.has(String(req.headers['x-drill-agent']))) firstNew.set(String(req.headers['x-drill-agent']), now)
                if (l === 'old' && now > revokedAt) oldAfterRevoke++
                res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"data":[]}' : '{"error":{"code":"invalid_api_key"}}')
                return
            }
            const base = '/v1/organization/projects/proj_drill/api_keys'
            if (auth !== adminKey) { res.writeHead(401).end('{}'); return }
            const keysListed = [...active].map((k) => ({ id: `key_${label(k)}`, redacted_value: `${k.slice(0, 8)}...${k.slice(-4)}` }))
            if (req.method === 'GET' && req.url?.startsWith(`${base}?`)) { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: keysListed, has_more: false })); return }
            const hit = [...active].find((k) => req.method === 'DELETE' && req.url === `${base}/key_${label(k)}`)
            if (hit !== undefined) { active.delete(hit); revokedAt = performance.now(); res.writeHead(200).end('{"deleted":true}'); return }
            res.writeHead(404).end('{}')
        })
        await new Promise<void>((resolve) => { provider.listen(0, '127.0.0.1', resolve) })
        servers.push(provider)
        const providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`

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
        const volumes = names.map((a) => new KubeletVolume(join(work, 'pods', a, 'keys')))
        /** The deploy: render the repository and swap every pod's mount, the kubelet's way. */
        const deployTimes: number[] = []
        const deploy = async (): Promise<void> => {
            const started = performance.now()
            const out = join(work, `render-${Date.now()}`)
            await must(['render', 'dev', '--out', out, '--identity-file', identity])
            names.forEach((a, i) => {
                const secret = parseYaml(readFileSync(join(out, 'drill', 'secrets', `${a}.yaml`), 'utf8')) as { data: Record<string, string> }
                const payload: Payload = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
                volumes[i]?.write(payload)
            })
            rmSync(out, { recursive: true, force: true })
            deployTimes.push(performance.now() - started)
        }
        await deploy()

        // Beside this file when it runs built; from the build when a test runs the source.
        const sibling = join(dirname(fileURLToPath(import.meta.url)), 'drill-agent.js')
        const agentScript = existsSync(sibling) ? sibling : join(root, 'dist', 'scripts', 'drill-agent.js')
        // Each agent prints two JSON lines: its status port when ready, its counts when stopped.
        const replies = new Map<ChildProcess, string[]>()
        const waiters = new Map<ChildProcess, (line: string) => void>()
        const nextLine = (child: ChildProcess): Promise<string> => new Promise((resolve) => {
            const queued = replies.get(child)?.shift()
            if (queued !== undefined) resolve(queued)
            else waiters.set(child, resolve)
        })
        const ports = await Promise.all(names.map(async (a, i) => {
            const child = spawn(process.execPath, [agentScript, volumes[i]?.dir ?? '', providerUrl, a, String(options.intervalMs ?? 50)], { stdio: ['ignore', 'pipe', 'inherit'] })
            children.push(child)
            replies.set(child, [])
            createInterface({ input: child.stdout }).on('line', (line) => {
                const waiter = waiters.get(child)
                waiters.delete(child)
                if (waiter) waiter(line)
                else replies.get(child)?.push(line)
            })
            const exited = new Promise<never>((_, reject) => { child.once('exit', (code) => { reject(new Error(`drill agent ${a} exited ${String(code)} early`)) }) })
            return (JSON.parse(await Promise.race([nextLine(child), exited])) as { port: number }).port
        }))
        names.forEach((a, i) => { pods.push({ ns: 'drill', name: `${a}-0`, app: a, port: ports[i] as number }) })
        let text = readFileSync(deploymentFile, 'utf8')
        names.forEach((a, i) => { text = text.replace(`name: ${a}\n`, `name: ${a}\n    status_port: ${ports[i] ?? 0}\n`) })
        writeFileSync(deploymentFile, text)
        git('commit', '-qam', 'status ports')
        log(`drill: ${n} agents calling ${providerUrl} with the old key`)

        // a: the provider issues the new key, the pipeline adds it beside the old one.
        active.add(fresh)
        await must(['rotate-key', 'dev', 'OPENAI_API_KEY', '--new', '--identity-file', identity], `${fresh}\n`)
        git('commit', '-qam', 'rotate-key a')
        const merged = performance.now()
        log('drill: step a merged; deploying')
        await deploy()
        // b: waits (through the pod proxy) until every agent serves the render, then removes the old key.
        await must(['rotate-key', 'dev', 'OPENAI_API_KEY', '--wait', '--timeout', '5m', '--identity-file', identity])
        git('commit', '-qam', 'rotate-key b')
        log('drill: step b merged; deploying')
        await deploy()
        // c: once every agent is confirmed again, revokes the old key at the provider.
        writeFileSync(join(work, 'admin.key'), adminKey, { mode: 0o600 })
        await must(['rotate-key', 'dev', 'OPENAI_API_KEY', '--wait', '--timeout', '5m', '--identity-file', identity, '--admin-key-file', join(work, 'admin.key'), '--openai-project', 'proj_drill', '--admin-base-url', providerUrl])
        if (revokedAt === Infinity) throw new Error('drill: step c did not revoke the old key')
        log('drill: old key revoked; agents keep calling')
        await new Promise((resolve) => { setTimeout(resolve, options.afterRevokeMs ?? 1000) })

        const stats = await Promise.all(children.map(async (child) => {
            const line = nextLine(child)
            child.removeAllListeners('exit')
            child.kill('SIGTERM')
            return JSON.parse(await line) as { calls: number; failed: number }
        }))
        const lastNew = Math.max(...names.map((a) => firstNew.get(a) ?? Infinity))
        return {
            agents: n,
            calls: stats.reduce((s, x) => s + x.calls, 0),
            failed: stats.reduce((s, x) => s + x.failed, 0),
            byKey,
            mergeToLastNewMs: lastNew - merged,
            mergeToRevocableMs: revokedAt - merged,
            oldAfterRevoke,
            deployMs: [...deployTimes].sort((a, b) => a - b)[Math.floor(deployTimes.length / 2)] ?? 0,
        }
    } finally {
        for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
        for (const s of servers) s.close()
        rmSync(work, { recursive: true, force: true })
    }
}

/** The drill's report as a table. */
export const drillTable = (r: DrillResult): string => {
    const rows: [string, string, string][] = [
        ['agents', String(r.agents), ''],
        ['calls made', String(r.calls), ''],
        ['calls failed', String(r.failed), r.failed === 0 ? 'goal 0: met' : 'goal 0: NOT MET'],
        ['provider answers', Object.entries(r.byKey).map(([k, v]) => `${k}: ${Object.entries(v).map(([s, c]) => `${s}×${c}`).join(' ')}`).join('; '), ''],
        ['one deploy (render + every mount swapped)', `${(r.deployMs / 1000).toFixed(2)} s`, 'median, for comparison'],
        ['merge → last agent on the new key', `${(r.mergeToLastNewMs / 1000).toFixed(2)} s`, ''],
        ['merge → old key revocable (revoked)', `${(r.mergeToRevocableMs / 1000).toFixed(2)} s`, ''],
        ['calls with the old key after revocation', String(r.oldAfterRevoke), r.oldAfterRevoke === 0 ? 'goal 0: met' : 'goal 0: NOT MET'],
    ]
    const w = [0, 1].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)))
    return `${rows.map(([a, b, c]) => `${a.padEnd(w[0] ?? 0)}  ${b.padEnd(w[1] ?? 0)}  ${c}`.trimEnd()).join('\n')}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const agents = Number(process.argv[2] ?? process.env.KEYFLEET_DRILL_AGENTS ?? 20)
    const result = await runDrill({ agents, log: (line) => { process.stderr.write(`${line}\n`) } })
    process.stdout.write(drillTable(result))
    process.exitCode = result.failed === 0 && result.oldAfterRevoke === 0 ? 0 : 1
}
