/**
 * A copy of the kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go) for
 * tests that need to pause between its steps: the sequence of file-system
 * operations a Secret volume sees when a Secret changes. Where the real one
 * can be used it is (test/loader/kubelet-go.ts, `.tools/bin/atomic-writer`);
 * test/loader/atomic-writer.test.ts checks this copy's layout against it.
 *
 *   1. read the `..data` link;  2. byte-compare the payload, stop if equal;
 *   3. create `..2026_11_25_20_00_00.123456789` (UTC timestamp + random), chmod 0755;
 *   4. write every file into it;  5. (setPerms: nothing to do as one user);
 *   6. symlink `..data_tmp` → the new dir, rename it over `..data`;
 *   7. create missing per-key links `NAME -> ..data/NAME`, remove stale ones;
 *   8. RemoveAll the old timestamped dir.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomInt } from 'node:crypto'

/** One Secret payload: file name → content. */
export type Payload = Readonly<Record<string, string>>

const DATA = '..data'
const DATA_TMP = '..data_tmp'

const timestampDir = (): string => {
    const d = new Date()
    const p = (n: number, w = 2): string => String(n).padStart(w, '0')
    // Go: time.Now().UTC().Format("..2006_01_02_15_04_05.") + os.MkdirTemp's random suffix, a uint32 in
    // decimal without padding (1-10 digits; test/loader/atomic-writer.test.ts compares with the real writer).
    return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${randomInt(0, 2 ** 32)}`
}

/** A Secret volume directory written the kubelet way. */
export class KubeletVolume {
    /** Number of swaps performed (payloads that differed). */
    swaps = 0

    constructor(readonly dir: string) {
        mkdirSync(dir, { recursive: true })
    }

    /**
     * The kubelet's write as a sequence of steps; `yield` marks the points
     * between operations where another process (the loader) may run.
     * The step after the rename of `..data` is labelled 'swapped'.
     */
    * steps(payload: Payload): Generator<'step' | 'swapped', boolean> {
        const oldLink = existsSync(join(this.dir, DATA)) ? readlinkSync(join(this.dir, DATA)) : undefined
        if (oldLink !== undefined && this.#same(join(this.dir, oldLink), payload)) return false
        const tsName = timestampDir()
        const tsDir = join(this.dir, tsName)
        mkdirSync(tsDir)
        chmodSync(tsDir, 0o755)
        yield 'step'
        for (const [name, content] of Object.entries(payload)) writeFileSync(join(tsDir, name), content, { mode: 0o644 })
        yield 'step'
        symlinkSync(tsName, join(this.dir, DATA_TMP))
        renameSync(join(this.dir, DATA_TMP), join(this.dir, DATA))
        this.swaps++
        yield 'swapped'
        for (const name of Object.keys(payload)) {
            const link = join(this.dir, name)
            if (!lstatSync(link, { throwIfNoEntry: false })) symlinkSync(join(DATA, name), link)
        }
        for (const entry of readdirSync(this.dir)) {
            if (entry.startsWith('.') || entry in payload) continue
            unlinkSync(join(this.dir, entry))
        }
        yield 'step'
        if (oldLink !== undefined) rmSync(join(this.dir, oldLink), { recursive: true, force: true })
        return true
    }

    /** Runs a whole write synchronously; false when the payload was unchanged. */
    write(payload: Payload): boolean {
        const it = this.steps(payload)
        for (;;) {
            const r = it.next()
            if (r.done) return r.value
        }
    }

    /**
     * Runs a write with `pause()` awaited between operations.
     * @param onSwap - called synchronously right after the atomic rename (for latency measurement).
     */
    async writeAsync(payload: Payload, pause: () => Promise<void>, onSwap?: () => void): Promise<boolean> {
        const it = this.steps(payload)
        for (;;) {
            const r = it.next()
            if (r.done) return r.value
            if (r.value === 'swapped') onSwap?.()
            await pause()
        }
    }

    #same(dir: string, payload: Payload): boolean {
        const current = readdirSync(dir)
        if (current.length !== Object.keys(payload).length) return false
        return Object.entries(payload).every(([name, content]) =>
            existsSync(join(dir, name)) && readFileSync(join(dir, name), 'utf8') === content)
    }
}
