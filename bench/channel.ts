/**
 * Rotation to host over the pull channel (issue 16): Debian's nginx serves
 * one signed bundle per host; 50 loader stores in this process and 5
 * `keyfleet agent sync` processes poll every 2 s. Each round publishes a new
 * generation for all 55 hosts (atomic renames into nginx's root) and records
 * when every host serves it: p50/p99/max, next to the documented refresh
 * intervals users compare with (AWS Secrets Manager Agent 300 s, Vault Agent
 * 5 min, kubelet Secret volume 60–90 s). Then an idle window measures
 * requests per host per hour and bytes per unchanged (304) poll from nginx's
 * own access log. Goal: p99 ≤ poll + 1 s, zero failed reads, ≤ 1 request per
 * host per poll.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity } from '../src/age/index.js'
import { openKeys, type KeyStore } from '../src/loader/index.js'
import { bundlePlaintext, sealBundle } from '../src/render/bundle.js'
import { generationId } from '../src/render/generation.js'
import { formatPublicKey, generateSigningKey, signEnvelope } from '../src/sign/index.js'
import { findRoot } from './tools.js'
import type { BenchRow, BenchSuite } from './types.js'

const STORES = 50
const SYNCS = 5
const POLL_MS = 2000
const ROUNDS = 3
const IDLE_MS = 20_000

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const freePort = (): Promise<number> => new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => { resolve(port) }) })
})
const quantile = (xs: number[], q: number): number => {
    const s = [...xs].sort((a, b) => a - b)
    return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number
}

const startNginx = async (dir: string): Promise<{ origin: string; www: string; log: () => string[]; stop: () => void }> => {
    const www = join(dir, 'www')
    mkdirSync(www)
    const port = await freePort()
    writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format kf escape=none '$uri $status $bytes_sent $request_length';
  access_log ${dir}/access.log kf;
  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  default_type text/plain;
  server { listen 127.0.0.1:${port}; root ${www}; etag on; }
}
`)
    const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' })
    for (let i = 0; i < 400; i++) {
        try { await (await fetch(`http://127.0.0.1:${port}/`)).body?.cancel(); break } catch { await sleep(25) }
    }
    return {
        origin: `http://127.0.0.1:${port}`, www,
        log: () => { try { return readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((l) => l.startsWith('/host-')) } catch { return [] } },
        stop: () => { child.kill() },
    }
}

export const run: BenchSuite = async (progress) => {
    const root = findRoot()
    const dir = mkdtempSync(join(tmpdir(), 'kf-bench-channel-'))
    const nginx = await startNginx(dir)
    const { identity, recipient } = await generateIdentity()
    const signing = generateSigningKey('keyfleet-signing:prod')
    writeFileSync(join(dir, 'signing.pub'), formatPublicKey(signing.publicKey))
    writeFileSync(join(dir, 'host.agekey'), `${identity}\n`, { mode: 0o600 })
    const hosts = Array.from({ length: STORES + SYNCS }, (_, i) => `host-${i}`)
    let mtime = Math.floor(Date.now() / 1000)
    let issuedAt = Date.now()
    const publish = async (round: number): Promise<{ at: number; value: (host: string) => string }> => {
        const value = (host: string): string => `sk-proj-bench-${round}-${host}-${'x'.repeat(32)}`
        issuedAt = Math.max(Date.now(), issuedAt + 1)
        mtime += 10
        const staged: [string, string][] = []
        for (const host of hosts) {
            const entries: [string, string][] = [['OPENAI_API_KEY', value(host)]]
            const generation = generationId(entries)
            const text = signEnvelope({ environment: 'prod', agent: host, generation, issuedAt }, await sealBundle(bundlePlaintext('prod', host, generation, entries), recipient), signing)
            const tmp = join(nginx.www, `.${host}.tmp`)
            writeFileSync(tmp, text)
            utimesSync(tmp, mtime, mtime)
            staged.push([tmp, join(nginx.www, `${host}.bundle`)])
        }
        for (const [from, to] of staged) renameSync(from, to)
        return { at: performance.now(), value }
    }
    progress(`publish generation 0 for ${hosts.length} hosts; open ${STORES} stores and start ${SYNCS} agent sync processes (poll ${POLL_MS / 1000} s)`)
    let current = await publish(0)
    const stores: KeyStore[] = []
    let errors = 0
    for (const host of hosts.slice(0, STORES)) {
        const store = await openKeys({ url: `${nginx.origin}/${host}.bundle`, signingKey: formatPublicKey(signing.publicKey), identity, pollMs: POLL_MS, cacheDir: false, env: {}, persistent: false })
        store.on('error', () => { errors++ })
        stores.push(store)
    }
    const syncs = hosts.slice(STORES).map((host) => {
        const out = join(dir, 'sync', host)
        const child = spawn(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'agent', 'sync', `${nginx.origin}/${host}.bundle`, '--out', out, '--poll', String(POLL_MS / 1000), '--signing-key-file', join(dir, 'signing.pub'), '--identity-file', join(dir, 'host.agekey'), '--cache-dir', join(dir, 'cache', host)], { stdio: 'ignore', env: { PATH: process.env.PATH, HOME: dir } })
        return { host, out, child }
    })
    const read = (p: string): string | undefined => { try { return readFileSync(p, 'utf8') } catch { return undefined } }
    let failedReads = 0
    const reads = (): void => {
        stores.forEach((s, i) => { if (s.get('openai') === undefined) failedReads++; void i })
    }
    const waitAll = async (value: (host: string) => string, at: number, timeoutMs: number): Promise<number[]> => {
        const done = new Map<string, number>()
        const end = performance.now() + timeoutMs
        while (done.size < hosts.length && performance.now() < end) {
            stores.forEach((s, i) => { const h = hosts[i] as string; if (!done.has(h) && s.get('openai') === value(h)) done.set(h, performance.now() - at) })
            for (const s of syncs) if (!done.has(s.host) && read(join(s.out, 'OPENAI_API_KEY')) === value(s.host)) done.set(s.host, performance.now() - at)
            reads()
            await sleep(5)
        }
        if (done.size < hosts.length) throw new Error(`only ${done.size} of ${hosts.length} hosts reached the new generation`)
        return [...done.values()]
    }
    await waitAll(current.value, current.at, 30_000)
    await sleep(POLL_MS * 1.5)
    const latencies: number[] = []
    const syncLatencies: number[] = []
    for (let round = 1; round <= ROUNDS; round++) {
        progress(`round ${round}/${ROUNDS}: publish a new generation, wait for all ${hosts.length} hosts`)
        current = await publish(round)
        const times = await waitAll(current.value, current.at, 30_000)
        latencies.push(...times)
        syncLatencies.push(...times.slice(-SYNCS))
        // Let the polls drift to a new phase before the next publish.
        await sleep(POLL_MS * 0.7)
    }
    progress(`idle ${IDLE_MS / 1000} s: count requests and bytes per unchanged poll in nginx's access log`)
    const before = nginx.log().length
    const t0 = performance.now()
    await sleep(IDLE_MS)
    const idle = nginx.log().slice(before)
    const window = performance.now() - t0
    for (const s of stores) await s.close()
    for (const s of syncs) s.child.kill('SIGTERM')
    nginx.stop()
    await sleep(200)
    rmSync(dir, { recursive: true, force: true })

    const perHostHour = idle.length / hosts.length * (3_600_000 / window)
    const nominal = 3_600_000 / POLL_MS
    const notModified = idle.filter((l) => l.split(' ')[1] === '304')
    const bytes = notModified.reduce((sum, l) => sum + Number(l.split(' ')[2]) + Number(l.split(' ')[3]), 0) / Math.max(1, notModified.length)
    const p50 = quantile(latencies, 0.5)
    const p99 = quantile(latencies, 0.99)
    const max = Math.max(...latencies)
    const goal = POLL_MS + 1000
    const rows: BenchRow[] = [
        { suite: 'channel', name: `publish → all ${hosts.length} hosts, p50 (${ROUNDS} rotations, poll 2 s)`, value: p50, unit: 'ms', baseline: { name: 'poll interval', value: POLL_MS } },
        { suite: 'channel', name: `publish → all ${hosts.length} hosts, p99`, value: p99, unit: 'ms', baseline: { name: 'poll interval', value: POLL_MS }, goal: `≤ poll + 1 s (${goal} ms)`, met: p99 <= goal },
        { suite: 'channel', name: `publish → all ${hosts.length} hosts, max`, value: max, unit: 'ms', baseline: { name: 'poll interval', value: POLL_MS } },
        { suite: 'channel', name: `agent sync processes only (${SYNCS}), p99`, value: quantile(syncLatencies, 0.99), unit: 'ms', goal: `≤ ${goal} ms`, met: quantile(syncLatencies, 0.99) <= goal },
        { suite: 'channel', name: 'failed reads (get() undefined) and error events during rotations', value: failedReads + errors, unit: 'count', goal: '0', met: failedReads + errors === 0 },
        { suite: 'channel', name: 'requests per host per hour, nothing changing', value: perHostHour, unit: 'req/h', baseline: { name: `1 per poll (${nominal}/h)`, value: nominal }, ratio: perHostHour / nominal, goal: '≤ 1 per poll (ratio ≤ 1.05)', met: perHostHour / nominal <= 1.05 },
        { suite: 'channel', name: 'bytes per unchanged poll (304: response + request, nginx log)', value: bytes, unit: 'B', note: `${notModified.length} of ${idle.length} idle requests were 304` },
        { suite: 'channel', name: 'anchor: AWS Secrets Manager Agent refresh (documented)', value: 300_000, unit: 'ms', ratio: 300_000 / p99, note: 'ratio = anchor / our p99' },
        { suite: 'channel', name: 'anchor: Vault Agent static secret re-render (documented)', value: 300_000, unit: 'ms', ratio: 300_000 / p99, note: 'ratio = anchor / our p99' },
        { suite: 'channel', name: 'anchor: kubelet Secret volume refresh (documented 60–90 s)', value: 90_000, unit: 'ms', ratio: 90_000 / p99, note: 'upper end; ratio = anchor / our p99' },
    ]
    return rows
}
