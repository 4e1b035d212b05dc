/**
 * Rotation demo (called by `npm run demo` through `runRotationDemo(log)`):
 * creates a Secret volume in a temp dir, updates it exactly as the kubelet
 * does (new timestamped dir, `..data_tmp` symlink renamed over `..data`), and
 * prints how long each rotation took to reach `get()`. Prints hints, never values.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { openKeys } from '../src/loader/index.js'
import { KubeletVolume } from '../test/loader/kubelet.js'

/** Result of {@link runRotationDemo}: swap-to-get delays in ms, one per rotation. */
export interface RotationDemoResult {
    readonly delaysMs: readonly number[]
}

const demoKey = (): string => `sk-proj-demo${randomBytes(20).toString('hex')}`

/**
 * Runs the demo.
 * @param log - receives one line at a time (names, hints and timings only).
 * @param rotations - how many kubelet-style rotations to perform.
 * @param makeKey - produces each demo key (tests pass canaries).
 */
export const runRotationDemo = async (log: (line: string) => void, rotations = 5, makeKey: () => string = demoKey): Promise<RotationDemoResult> => {
    const root = mkdtempSync(join(tmpdir(), 'keyfleet-demo-'))
    const vol = new KubeletVolume(join(root, 'keyfleet'))
    try {
        vol.write({ OPENAI_API_KEY: makeKey() })
        const keys = await openKeys({ path: vol.dir, env: {} })
        log(`demo: Secret volume at ${vol.dir}; openai key ${keys.hint('openai') ?? '(none)'}`)
        const delaysMs: number[] = []
        for (let i = 1; i <= rotations; i++) {
            const next = makeKey()
            let swappedAt = 0
            const seen = new Promise<number>((resolve) => {
                const check = (): void => { if (keys.get('openai') === next) resolve(performance.now()); else setImmediate(check) }
                setImmediate(check)
            })
            // Microtask pauses: nothing else runs between the kubelet's steps, as in one write() call.
            await vol.writeAsync({ OPENAI_API_KEY: next }, () => Promise.resolve(), () => { swappedAt = performance.now() })
            const delay = Math.max(0, (await seen) - swappedAt)
            delaysMs.push(delay)
            log(`demo: rotation ${i}: kubelet swapped ..data; get('openai') now ${keys.hint('openai') ?? '(none)'} after ${delay.toFixed(3)} ms (generation ${keys.generation})`)
        }
        await keys.close()
        const sorted = [...delaysMs].sort((a, b) => a - b)
        log(`demo: median swap-to-get ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(3)} ms over ${rotations} rotations, no restart, no failed read`)
        return { delaysMs }
    } finally {
        rmSync(root, { recursive: true, force: true })
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    await runRotationDemo((line) => { console.log(line) })
}
