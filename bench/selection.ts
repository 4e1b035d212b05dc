/**
 * Selection benchmarks (issue 18), each next to a baseline measured in the same run:
 * - get('openai') / pick('openai') ns/op over a 3-key pool with each strategy, next to
 *   today's plain round-robin pool (issue 9's code path, no selector) and process.env[NAME];
 *   each measure runs in its own child process, so no measure's JIT state shapes another's,
 *   and process.env is the one an agent reads: the main thread's, over the real environment
 *   (a worker thread's process.env is an in-memory copy, cheaper to read than the real one).
 * - Throughput against a fake provider on loopback that allows N requests per window per
 *   key (N = 8 per 2 s window: "N per minute" scaled down so a run takes seconds, and low
 *   enough that the quota, not the CPU of a shared machine, limits the client; OpenAI's
 *   headers): successful requests/s and 429s for each strategy over a 3-key
 *   pool (equal and uneven quotas), next to a single key. Every client loop calls
 *   keys.fetch with the same options (maxWaitMs: one window), whatever the strategy.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { builtinCatalog } from '../src/catalog/builtin.js'
import { indexCatalog } from '../src/catalog/resolve.js'
import { openKeys, type KeyStore, type StrategyName } from '../src/loader/index.js'
import { buildSnapshot, valueIn } from '../src/loader/snapshot.js'
import { startFakeProvider } from '../test/loader/fake-provider.js'
import type { BenchRow, BenchSuite } from './types.js'

const GETS = 1_000_000
const ROUNDS = 7
const WARMUP = 200_000
const KEYS = [1, 2, 3].map((i) => `sk-proj-bench-${i}-${'x'.repeat(40)}`)
const ENV = { OPENAI_API_KEY: KEYS[0] as string, OPENAI_API_KEY_2: KEYS[1] as string, OPENAI_API_KEY_3: KEYS[2] as string }

type Measure = 'round-robin' | 'least-used' | 'headroom' | 'headroom-observed' | 'headroom-pick'
type Loop = (n: number) => number
/** ns/op of the measure and of its two baselines, measured in the same thread with rounds interleaved. */
interface Timing { readonly value: number; readonly plain: number; readonly env: number }

const medianOf = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1] as number

// Rounds alternate between the measure and its baselines, so that the load of a shared
// machine falls on all three alike; each has its own loop (a shared one would go polymorphic).
const interleaved = (loops: readonly [Loop, Loop, Loop]): [number, number, number] => {
    let sink = 0
    for (const loop of loops) sink += loop(WARMUP)
    const rounds: [number[], number[], number[]] = [[], [], []]
    for (let r = 0; r < ROUNDS; r++) {
        loops.forEach((loop, j) => {
            const t = process.hrtime.bigint()
            sink += loop(GETS)
            rounds[j]?.push(Number(process.hrtime.bigint() - t) / GETS)
        })
    }
    if (sink === -1) console.log(sink)
    return [medianOf(rounds[0]), medianOf(rounds[1]), medianOf(rounds[2])]
}

/** One measure, in this (child) process. */
const measure = async (which: Measure): Promise<Timing> => {
    process.env.KEYFLEET_BENCH_KEY = KEYS[0]
    const env: Loop = (n) => { let s = 0; for (let i = 0; i < n; i++) s += process.env.KEYFLEET_BENCH_KEY?.length ?? 0; return s }
    // Today's round robin: the snapshot lookup and plain pool of issue 9, no selector attached.
    const snapshot = buildSnapshot(new Map(), ENV, indexCatalog(builtinCatalog), 1)
    const plain: Loop = (n) => { let s = 0; for (let i = 0; i < n; i++) s += valueIn(snapshot, 'openai')?.length ?? 0; return s }
    const strategy: StrategyName = which.startsWith('headroom') ? 'headroom' : which as StrategyName
    const keys: KeyStore = await openKeys({ env: ENV, watch: false, persistent: false, selection: { strategy } })
    if (which === 'headroom-observed') {
        // Every member has answered once with a large quota: the estimate path, not the "unknown" one.
        for (let i = 0; i < 3; i++) {
            const c = keys.pick('openai')
            if (c) keys.observe(c, { status: 200, headers: { 'x-ratelimit-limit-requests': '1000000000', 'x-ratelimit-remaining-requests': '999999999', 'x-ratelimit-reset-requests': '6m0s' } })
        }
    }
    const ours: Loop = which === 'headroom-pick'
        ? (n) => { let s = 0; for (let i = 0; i < n; i++) s += keys.pick('openai')?.value.length ?? 0; return s }
        : (n) => { let s = 0; for (let i = 0; i < n; i++) s += keys.get('openai')?.length ?? 0; return s }
    const [value, base, e] = interleaved([ours, plain, env])
    await keys.close()
    return { value, plain: base, env: e }
}

const CHILD = 'KEYFLEET_BENCH_SELECTION_MEASURE'
const measured = process.env[CHILD]
if (measured !== undefined && process.send !== undefined) {
    const timing = await measure(measured as Measure)
    process.send(timing, () => process.exit(0))
}

const inChild = (which: Measure): Promise<Timing> => new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, [CHILD]: which }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let timing: Timing | undefined
    child.once('message', (t: Timing) => { timing = t })
    child.once('error', reject)
    // 'close' comes after the IPC channel has delivered everything, so a sent timing is never missed.
    child.once('close', (code) => { if (timing) resolve(timing); else reject(new Error(`selection measure ${which} exited with ${String(code)} before reporting`)) })
})

const microRows = async (progress: (m: string) => void): Promise<BenchRow[]> => {
    const note = `3-key pool, median of ${ROUNDS} rounds x ${GETS} calls after ${WARMUP} warm-up calls; each measure in its own child process (process.env: its main thread's, as an agent reads it), its rounds interleaved with both baselines'`
    const rows: BenchRow[] = []
    const cases: [string, Measure, boolean][] = [
        ["get('openai') round-robin (counting)", 'round-robin', false],
        ["get('openai') least-used", 'least-used', false],
        ["get('openai') headroom, no answers yet", 'headroom', true],
        ["get('openai') headroom, answers seen", 'headroom-observed', true],
        ["pick('openai') headroom", 'headroom-pick', true],
    ]
    for (const [name, which, goals] of cases) {
        progress(`${name}: ${ROUNDS} interleaved rounds x ${GETS} calls, own process`)
        const t = await inChild(which)
        rows.push({
            suite: 'selection', name, value: t.value, unit: 'ns/op', baseline: { name: "today's round robin (plain pool)", value: t.plain },
            ratio: t.plain / t.value, ...(goals ? { goal: 'within 2x of round robin', met: t.value <= 2 * t.plain } : {}), note,
        })
        if (goals) rows.push({ suite: 'selection', name, value: t.value, unit: 'ns/op', baseline: { name: 'process.env[NAME]', value: t.env }, ratio: t.env / t.value, goal: '>= 10x faster than process.env', met: t.env / t.value >= 10, note })
    }
    return rows
}

const WINDOW_MS = 2000
const PER_WINDOW = 8
const RUN_MS = 8000
const CLIENTS = 4

/** Successful requests/s and 429s of `CLIENTS` loops calling keys.fetch for RUN_MS. */
const drive = async (limits: number[], strategy: StrategyName): Promise<{ perSecond: number; limited: number; ok: number }> => {
    const keys = limits.map((_, i) => `sk-proj-drive-${i}-${'z'.repeat(40)}`)
    const fake = await startFakeProvider({ dialect: 'openai', windowMs: WINDOW_MS, limits: Object.fromEntries(keys.map((k, i) => [k, limits[i] as number])) })
    const env = Object.fromEntries(keys.map((k, i) => [i === 0 ? 'OPENAI_API_KEY' : `OPENAI_API_KEY_${i + 1}`, k]))
    const store = await openKeys({ env, watch: false, persistent: false, selection: { strategy } })
    const end = Date.now() + RUN_MS
    const loop = async (): Promise<void> => {
        while (Date.now() < end) {
            const res = await store.fetch('openai', fake.url, { method: 'POST', body: '{}' }, { maxWaitMs: WINDOW_MS })
            await res.arrayBuffer()
        }
    }
    const started = Date.now()
    await Promise.all(Array.from({ length: CLIENTS }, loop))
    const seconds = (Date.now() - started) / 1000
    await store.close()
    await fake.close()
    const ok = [...fake.served.values()].reduce((n, c) => n + c.ok, 0)
    const limited = [...fake.served.values()].reduce((n, c) => n + c.limited, 0)
    return { perSecond: ok / seconds, limited, ok }
}

const throughputRows = async (progress: (m: string) => void): Promise<BenchRow[]> => {
    progress(`throughput: single key, ${PER_WINDOW} requests per ${WINDOW_MS} ms, ${CLIENTS} clients, ${RUN_MS} ms`)
    const single = await drive([PER_WINDOW], 'round-robin')
    const rows: BenchRow[] = [{
        suite: 'selection', name: `single key (${PER_WINDOW}/window)`, value: single.perSecond, unit: 'req/s',
        note: `${single.ok} ok, ${single.limited} x 429; fake provider with OpenAI headers, window ${WINDOW_MS} ms, ${CLIENTS} concurrent clients, ${RUN_MS} ms`,
    }]
    const scenarios: [string, number[]][] = [['equal quotas', [PER_WINDOW, PER_WINDOW, PER_WINDOW]], ['uneven quotas', [PER_WINDOW / 2, PER_WINDOW, PER_WINDOW * 1.5]]]
    for (const [label, limits] of scenarios) {
        for (const strategy of ['round-robin', 'least-used', 'headroom'] as const) {
            progress(`throughput: 3 keys, ${label} (${limits.join('/')}), ${strategy}`)
            const r = await drive(limits, strategy)
            const share = r.limited / Math.max(1, r.ok + r.limited)
            const ratio = r.perSecond / single.perSecond
            const goal = strategy === 'headroom' && label === 'equal quotas'
            rows.push({
                suite: 'selection', name: `3 keys ${label}, ${strategy}`, value: r.perSecond, unit: 'req/s',
                baseline: { name: 'single key', value: single.perSecond }, ratio,
                ...(goal ? { goal: '>= 2.5x single key, <= 1% 429s', met: ratio >= 2.5 && share <= 0.01 } : {}),
                note: `${r.ok} ok, ${r.limited} x 429 (${(share * 100).toFixed(2)} %); ratio is throughput / single key`,
            })
        }
    }
    return rows
}

/** The suite: micro rows, then throughput rows. */
export const run: BenchSuite = async (progress) => [...await microRows(progress), ...await throughputRows(progress)]
