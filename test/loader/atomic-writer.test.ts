/**
 * The loader against the kubelet's own AtomicWriter (k8s.io/kubernetes
 * v1.33.13 pkg/volume/util, `.tools/bin/atomic-writer` built from tools/kube by
 * `scripts/ensure-tools.sh --with-kube`), the code that updates every Secret
 * volume in a real pod. It is the oracle here: our TypeScript copy of its
 * sequence (test/loader/kubelet.ts) stands in only where the binary is missing
 * locally, with a loud SKIPPED line; with KEYFLEET_REQUIRE_KUBE=1 (CI) its
 * absence fails. The payloads are secrets: they go to the writer on stdin only.
 */
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openKeys, type KeyfleetError } from '../../src/loader/index.js'
import { atomicWriterBinary, GoAtomicWriter, volumeWriters } from './kubelet-go.js'
import { KubeletVolume } from './kubelet.js'
import { cleanupTemp, nextEvent, tempDir, turn, untilValue } from './helpers.js'

afterAll(cleanupTemp)

const writers = volumeWriters()
if (writers.kind === 'copy') console.warn(`\n*** SKIPPED the kubelet's real AtomicWriter: writing with ${writers.reason} ***\n`)

const ROTATIONS = 40
const mark = (i: number): string => String(i).padStart(6, '0')
/** Rotation i's complete key set; some keys come and go, so links are added and removed too. */
const payload = (i: number): Record<string, string> => ({
    OPENAI_API_KEY: `sk-proj-rotation-${mark(i)}-${'a'.repeat(24)}`,
    ANTHROPIC_API_KEY: `sk-ant-api03-rotation-${mark(i)}-${'b'.repeat(32)}`,
    ...(i % 3 === 1 ? { GEMINI_API_KEY: `AIza-rotation-${mark(i)}-${'c'.repeat(20)}` } : {}),
    ...(i % 4 === 2 ? { FIREWORKS_API_KEY: `fw_rotation${mark(i)}${'d'.repeat(20)}` } : {}),
})
const rotationOf = (value: string | undefined): number => Number(/rotation-?(\d{6})/.exec(value ?? '')?.[1] ?? -1)

describe(`the loader on a Secret volume written by ${writers.kind === 'kubelet' ? "the kubelet's AtomicWriter" : 'our copy (binary missing)'}`, () => {
    it(`${ROTATIONS} rotations with keys added and removed: every read is one whole rotation, never a mix or a partial set`, async () => {
        const vol = writers.make(join(tempDir('aw', { tmpfs: true }), 'keys'))
        await vol.write(payload(0))
        await using keys = await openKeys({ path: vol.dir, env: {} })
        const errors: KeyfleetError[] = []
        keys.on('error', (e) => errors.push(e))
        let running = true
        let reads = 0
        const bad: string[] = []
        let last = 0
        const reader = async (): Promise<void> => {
            while (running) {
                const view = keys.view()
                const names = view.names()
                const rotations = new Set(names.map((n) => rotationOf(view.get(n))))
                const r = [...rotations][0] ?? -1
                const want = Object.keys(payload(r)).sort()
                if (rotations.size === 0) bad.push('an empty key set')
                else if (rotations.size !== 1) bad.push(`mixed rotations ${[...rotations].join(',')}`)
                else if (JSON.stringify(names) !== JSON.stringify(want)) bad.push(`rotation ${r}: names ${names.join(',')}, expected ${want.join(',')}`)
                else if (names.some((n) => view.get(n) !== payload(r)[n])) bad.push(`rotation ${r}: a value differs from the payload`)
                if (r < last) bad.push(`went back from ${last} to ${r}`)
                last = Math.max(last, r)
                reads++
                await turn()
            }
        }
        const readers = [reader(), reader(), reader()]
        for (let i = 1; i <= ROTATIONS; i++) {
            await vol.write(payload(i))
            await untilValue(keys, 'OPENAI_API_KEY', payload(i).OPENAI_API_KEY)
        }
        running = false
        await Promise.all(readers)
        expect(bad.slice(0, 5)).toEqual([])
        expect(reads).toBeGreaterThan(ROTATIONS)
        expect(keys.names()).toEqual(Object.keys(payload(ROTATIONS)).sort())
        expect(errors.map((e) => e.code)).toEqual([])
    }, 120_000)

    it('a dotenv file in the volume: rotations are served whole, an emptied or broken file keeps the last good keys', async () => {
        const vol = writers.make(join(tempDir('aw', { tmpfs: true }), 'keys'))
        const dotenv = (i: number): string => Object.entries(payload(i)).map(([k, v]) => `${k}=${v}\n`).join('')
        await vol.write({ 'env.secrets': dotenv(0) })
        await using keys = await openKeys({ path: join(vol.dir, 'env.secrets'), env: {} })
        for (let i = 1; i <= 5; i++) {
            await vol.write({ 'env.secrets': dotenv(i) })
            await untilValue(keys, 'OPENAI_API_KEY', payload(i).OPENAI_API_KEY)
            expect(keys.names()).toEqual(Object.keys(payload(i)).sort())
        }
        const good = keys.names().map((n) => [n, keys.get(n)])
        for (const [broken, code] of [['', 'LOADER_SOURCE_EMPTY'], ['OPENAI_API_KEY="sk-proj-unterminated\n', 'LOADER_PARSE_FAILED']] as const) {
            const failed = nextEvent(keys, 'error')
            await vol.write({ 'env.secrets': broken })
            expect((await failed).code).toBe(code)
            expect(keys.names().map((n) => [n, keys.get(n)])).toEqual(good)
        }
        await vol.write({ 'env.secrets': dotenv(6) })
        await untilValue(keys, 'OPENAI_API_KEY', payload(6).OPENAI_API_KEY)
        expect(keys.source.problem).toBeUndefined()
    }, 60_000)
})

/** A volume's layout with the timestamped directory's name replaced, for comparison. */
const layout = (dir: string): string[] => {
    const data = readlinkSync(join(dir, '..data'))
    const norm = (s: string): string => s.replace(data, '..TS')
    const row = (path: string, name: string): string => {
        const st = lstatSync(path)
        if (st.isSymbolicLink()) return `${norm(name)} -> ${norm(readlinkSync(path))}`
        return `${norm(name)} ${st.isDirectory() ? 'dir' : 'file'} ${(statSync(path).mode & 0o777).toString(8)}`
    }
    return readdirSync(dir).flatMap((name) => [row(join(dir, name), name), ...(name === data ? readdirSync(join(dir, name)).map((f) => row(join(dir, name, f), `${name}/${f}`)) : [])]).sort()
}

describe("the kubelet's real AtomicWriter as the oracle (skipped where the binary is missing)", () => {
    const found = atomicWriterBinary()
    it.skipIf(!('path' in found))('our TypeScript copy leaves the same layout as the real one after each of a series of writes (links, ..data, modes, one timestamped dir)', async () => {
        if (!('path' in found)) return
        const real = new GoAtomicWriter(found.path, join(tempDir('aw', { tmpfs: true }), 'real'))
        const copy = new KubeletVolume(join(tempDir('aw', { tmpfs: true }), 'copy'))
        for (let i = 0; i < 6; i++) {
            await real.write(payload(i))
            copy.write(payload(i))
            expect(layout(copy.dir), `write ${i}`).toEqual(layout(real.dir))
            // Go's os.MkdirTemp suffix is a random uint32 in decimal (1 to 10 digits), after a UTC timestamp.
            expect(readlinkSync(join(real.dir, '..data'))).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{1,10}$/)
            expect(readlinkSync(join(copy.dir, '..data'))).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{1,10}$/)
        }
    }, 60_000)

    it.skipIf(!('path' in found))('accepts the render\'s .keyfleet-generation entry and refuses only names starting with ..; the loader never serves the dot-file', async () => {
        if (!('path' in found)) return
        const real = new GoAtomicWriter(found.path, join(tempDir('aw', { tmpfs: true }), 'real'))
        const generation = '{"environment":"dev","agent":"a","generation":"0123456789abcdef"}'
        await real.write({ ...payload(1), '.keyfleet-generation': generation })
        await expect(real.write({ ...payload(2), '..sneaky': 'x' })).rejects.toThrow(/atomic-writer failed/)
        await using keys = await openKeys({ path: real.dir, env: {} })
        expect(keys.names()).toEqual(Object.keys(payload(1)).sort())
        expect(keys.get('OPENAI_API_KEY')).toBe(payload(1).OPENAI_API_KEY)
    }, 60_000)
})
