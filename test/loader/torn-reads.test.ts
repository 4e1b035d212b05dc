/**
 * Snapshot atomicity under load: 10,000 kubelet rotations of two keys that are
 * always rotated together, with 8 concurrent readers interleaving on the event
 * loop. Every pair read must come from one rotation: zero torn reads, zero
 * crashes, and the store ends on the last payload.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { bundleModule } from './bundle.js'
import { openKeys, type KeyfleetError } from '../../src/loader/index.js'
import { KubeletVolume } from './kubelet.js'
import { cleanupTemp, tempDir, turn, untilValue } from './helpers.js'

afterAll(cleanupTemp)

const ROTATIONS = 10_000
const INTERLEAVED = 10_000
const READERS = 8
const payload = (i: number): Record<string, string> => ({
    OPENAI_API_KEY: `sk-proj-rotation-${String(i).padStart(6, '0')}-aaaaaaaaaaaa`,
    ANTHROPIC_API_KEY: `sk-ant-api03-rotation-${String(i).padStart(6, '0')}-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb`,
})
const rotationOf = (value: string | undefined): number => Number(/rotation-(\d{6})/.exec(value ?? '')?.[1] ?? -1)

describe('torn reads', () => {
    it(`${INTERLEAVED} interleaved rotations, ${READERS} readers: every pair from one rotation, views hold across await`, async () => {
        const vol = new KubeletVolume(join(tempDir('torn', { tmpfs: true }), 'keys'))
        vol.write(payload(0))
        await using keys = await openKeys({ path: vol.dir, env: {} })
        const errors: KeyfleetError[] = []
        keys.on('error', (e) => errors.push(e))
        let running = true
        let reads = 0
        let torn = 0
        let backwards = 0
        const reader = async (id: number): Promise<void> => {
            let last = -1
            while (running) {
                // Direct reads: two gets in one synchronous block.
                const a = rotationOf(keys.get('openai'))
                const b = rotationOf(keys.get('claude'))
                if (a !== b) torn++
                if (a < last) backwards++
                last = a
                // A view held across an await must stay one generation too.
                if (id % 2 === 0) {
                    const view = keys.view()
                    const va = rotationOf(view.get('OPENAI_API_KEY'))
                    await turn()
                    if (rotationOf(view.get('ANTHROPIC_API_KEY')) !== va) torn++
                } else {
                    await turn()
                }
                reads++
            }
        }
        const readers = Array.from({ length: READERS }, (_, id) => reader(id))
        for (let i = 1; i <= INTERLEAVED; i++) {
            // Yield between some kubelet steps so reloads and readers interleave with the write itself.
            if (i % 4 === 0) await vol.writeAsync(payload(i), turn)
            else { vol.write(payload(i)); await turn() }
        }
        await untilValue(keys, 'openai', payload(INTERLEAVED).OPENAI_API_KEY)
        running = false
        await Promise.all(readers)
        expect(vol.swaps).toBe(INTERLEAVED + 1)
        expect(torn).toBe(0)
        expect(backwards).toBe(0)
        expect(errors.map((e) => e.code)).toEqual([])
        expect(reads).toBeGreaterThan(INTERLEAVED)
        expect(keys.get('claude')).toBe(payload(INTERLEAVED).ANTHROPIC_API_KEY)
        expect(keys.generation).toBeGreaterThan(1)
    })

    // The kubelet is another process: its writes land in the middle of the
    // loader's (synchronous) directory read. A worker thread reproduces that.
    it(`${ROTATIONS} rotations by a concurrent writer thread, ${READERS} readers: zero torn reads`, async () => {
        const root = tempDir('torn', { tmpfs: true })
        const vol = new KubeletVolume(join(root, 'keys'))
        vol.write(payload(0))
        await using keys = await openKeys({ path: vol.dir, env: {} })
        const errors: KeyfleetError[] = []
        keys.on('error', (e) => errors.push(e))
        const generations = new Set<number>()
        let running = true
        let torn = 0
        let reads = 0
        const reader = async (): Promise<void> => {
            while (running) {
                const a = rotationOf(keys.get('OPENAI_API_KEY'))
                const b = rotationOf(keys.get('ANTHROPIC_API_KEY'))
                if (a !== b || a < 0) torn++
                generations.add(keys.generation)
                reads++
                await turn()
            }
        }
        const readers = Array.from({ length: READERS }, () => reader())
        const worker = new Worker(fileURLToPath(new URL('./concurrent-writer.mjs', import.meta.url)), {
            workerData: { kubelet: bundleModule('test/loader/kubelet.ts', root, 'kubelet'), dir: vol.dir, rotations: ROTATIONS },
        })
        const done = await new Promise<{ swaps: number }>((resolve, reject) => {
            worker.once('message', resolve)
            worker.once('error', reject)
        })
        await untilValue(keys, 'openai', payload(ROTATIONS).OPENAI_API_KEY)
        running = false
        await Promise.all(readers)
        await worker.terminate()
        expect(done.swaps).toBe(ROTATIONS)
        expect(torn).toBe(0)
        expect(errors.map((e) => e.code)).toEqual([])
        expect(reads).toBeGreaterThan(READERS)
        // The loader really did swap many times while the writer ran.
        expect(generations.size).toBeGreaterThan(10)
        expect(keys.get('claude')).toBe(payload(ROTATIONS).ANTHROPIC_API_KEY)
    })
})
