/**
 * After an ENOSPC/EMFILE polling fallback the store retries the directory
 * watch with backoff, and returns to watching (and stops polling) once inotify
 * has room again. close() leaves no timer behind in either state.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { buildSync } from 'esbuild'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openKeys, type WatchFunction } from '../../src/loader/index.js'
import { nodeWatch } from '../../src/loader/watch.js'
import { repoRoot } from '../helpers/tools.js'
import { KubeletVolume } from './kubelet.js'
import { changeOf, cleanupTemp, nextEvent, tempDir } from './helpers.js'

afterAll(cleanupTemp)

const OLD = 'sk-proj-OLDoldOLDoldOLDoldOLDold1234'
const MID = 'sk-proj-MIDmidMIDmidMIDmidMIDmid4321'
const NEW = 'sk-proj-NEWnewNEWnewNEWnewNEWnew5678'

const enospc = (): Error => Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' })

/** A watch function that throws ENOSPC for its first `failures` calls, then watches for real and counts events. */
const flakyWatch = (failures: number): { watch: WatchFunction; calls: () => number; events: () => number } => {
    let calls = 0
    let events = 0
    const real = nodeWatch(false)
    const watch: WatchFunction = (dir, listener) => {
        calls++
        if (calls <= failures) throw enospc()
        return real(dir, (type, name) => { events++; listener(type, name) })
    }
    return { watch, calls: () => calls, events: () => events }
}

describe('re-watching after a polling fallback', () => {
    it('polls through ENOSPC, returns to watching once a watch succeeds, and sees the next kubelet swap through the watch', async () => {
        const dir = join(tempDir('rewatch', { tmpfs: true }), 'keys')
        const vol = new KubeletVolume(dir)
        vol.write({ OPENAI_API_KEY: OLD })
        const flaky = flakyWatch(2)
        const seen: string[] = []
        const keys = await openKeys({ path: dir, env: {}, watch: flaky.watch, pollIntervalMs: 20, rewatch: { initialMs: 150, maxMs: 10_000 } })
        try {
            // The fallback happened inside openKeys: it is visible in the state, not as a later event.
            expect(keys.source.mode).toBe('poll')
            expect(flaky.calls()).toBe(1)
            keys.on('change', (e) => { if (e.names.includes('OPENAI_API_KEY')) seen.push(`change:${keys.get('openai') ?? ''}`) })
            const watching = nextEvent(keys, 'watching')
            keys.on('watching', () => { seen.push('watching') })

            // Polling serves a change made during the fallback (the first retry is 150 ms away, the second 300 ms after it).
            vol.write({ OPENAI_API_KEY: MID })
            await changeOf(keys, 'OPENAI_API_KEY')
            expect(keys.get('openai')).toBe(MID)

            const event = await watching
            expect(event.attempts).toBe(2)
            expect(event.afterMs).toBeGreaterThan(0)
            expect(flaky.calls()).toBe(3)
            expect(keys.source.mode).toBe('watch')
            expect(seen).toEqual([`change:${MID}`, 'watching'])

            // A kubelet swap now arrives through the re-armed watch.
            const before = flaky.events()
            const change = changeOf(keys, 'OPENAI_API_KEY')
            vol.write({ OPENAI_API_KEY: NEW })
            await change
            expect(keys.get('openai')).toBe(NEW)
            expect(flaky.events()).toBeGreaterThan(before)
            expect(keys.source.mode).toBe('watch')
        } finally {
            await keys.close()
        }
        expect(keys.source.mode).toBe('none')
    })

    it('re-reads at once when the watch returns, so a change between the last poll and the watch is not missed', async () => {
        const file = join(tempDir('rewatch'), 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${OLD}\n`)
        let pressure = true
        const real = nodeWatch(false)
        const watch: WatchFunction = (dir, listener) => {
            if (pressure) throw enospc()
            return real(dir, listener)
        }
        // Polling so slow it never runs during the test: only the re-read on return can see the change.
        await using keys = await openKeys({ path: file, env: {}, watch, settleMs: 0, pollIntervalMs: 600_000, rewatch: { initialMs: 30, maxMs: 30 } })
        expect(keys.source.mode).toBe('poll')
        writeFileSync(file, `OPENAI_API_KEY=${NEW}\n`)
        const change = changeOf(keys, 'OPENAI_API_KEY')
        pressure = false
        await nextEvent(keys, 'watching')
        await change
        expect(keys.get('openai')).toBe(NEW)
    })

    it('backs off by doubling up to the cap and announces the fallback once', async () => {
        const file = join(tempDir('rewatch'), 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${OLD}\n`)
        const attempts: number[] = []
        const watch: WatchFunction = () => { attempts.push(Date.now()); throw enospc() }
        const fallbacks: unknown[] = []
        const keys = await openKeys({ path: file, env: {}, watch, pollIntervalMs: 1000, rewatch: { initialMs: 20, maxMs: 80 } })
        keys.on('fallback', (e) => fallbacks.push(e))
        // Initial try + attempts after 20, 40, 80, 80 ms (cumulative 220 ms): wait until five tries have happened.
        while (attempts.length < 6) await new Promise((r) => setTimeout(r, 20))
        await keys.close()
        const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number))
        // Lower bounds only (timers never fire much early); no upper bounds, which would be timing assertions.
        expect(gaps[0]).toBeGreaterThanOrEqual(19)
        expect(gaps[1]).toBeGreaterThanOrEqual(39)
        expect(gaps[2]).toBeGreaterThanOrEqual(79)
        expect(gaps[3]).toBeGreaterThanOrEqual(79)
        expect(fallbacks).toEqual([])
        expect(keys.source.mode).toBe('none')
    })

    it('never retries with rewatch: false', async () => {
        const file = join(tempDir('rewatch'), 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${OLD}\n`)
        let calls = 0
        await using keys = await openKeys({ path: file, env: {}, watch: () => { calls++; throw enospc() }, pollIntervalMs: 20, rewatch: false })
        for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20))
        expect(calls).toBe(1)
        expect(keys.source.mode).toBe('poll')
    })
})

describe('no timer outlives close()', () => {
    it('a process that closed its stores (polling with retries pending, or back to watching) exits on its own', async () => {
        const dir = tempDir('rewatch-child')
        const bundle = join(dir, 'loader.mjs')
        buildSync({
            entryPoints: [join(repoRoot, 'src/loader/index.ts')], bundle: true, platform: 'node', format: 'esm',
            target: 'node20', outfile: bundle, logLevel: 'silent', absWorkingDir: repoRoot,
            banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
        })
        const file = join(dir, 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${OLD}\n`)
        const script = join(dir, 'child.mjs')
        writeFileSync(script, `
import { watch } from 'node:fs'
import { openKeys } from ${JSON.stringify(bundle)}
const enospc = () => Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' })
const once = (store, event) => new Promise((resolve) => { const off = store.on(event, (e) => { off(); resolve(e) }) })
// Persistent stores: their poll and retry timers are referenced, as the watch would be.
const polling = await openKeys({ path: ${JSON.stringify(file)}, env: {}, watch: () => { throw enospc() }, pollIntervalMs: 10, rewatch: { initialMs: 10, maxMs: 20 } })
// A store whose first retry is a minute away: only close() can clear that timer in time.
const waiting = await openKeys({ path: ${JSON.stringify(file)}, env: {}, watch: () => { throw enospc() }, rewatch: { initialMs: 60000 } })
await new Promise((r) => setTimeout(r, 60))
let n = 0
const real = (d, l) => watch(d, { persistent: true }, (t, f) => l(t, f === null ? null : String(f)))
const back = await openKeys({ path: ${JSON.stringify(file)}, env: {}, watch: (d, l) => { if (++n <= 2) throw enospc(); return real(d, l) }, pollIntervalMs: 10, rewatch: { initialMs: 10, maxMs: 20 } })
await once(back, 'watching')
await polling.close()
await waiting.close()
await back.close()
console.log('closed', polling.source.mode, waiting.source.mode, back.source.mode)
`)
        const child = spawn(process.execPath, [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let err = ''
        child.stdout.on('data', (d: Buffer) => { out += String(d) })
        child.stderr.on('data', (d: Buffer) => { err += String(d) })
        const code = await new Promise<number | null | 'hung'>((resolve) => {
            const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('hung') }, 15_000)
            child.on('exit', (c) => { clearTimeout(timer); resolve(c) })
        })
        expect(err).toBe('')
        expect(out.trim()).toBe('closed none none none')
        expect(code).toBe(0)
    }, 30_000)
})
