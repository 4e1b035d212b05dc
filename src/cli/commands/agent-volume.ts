/**
 * Writes a key set into a directory in the shape of a Kubernetes Secret
 * volume, with the kubelet's AtomicWriter sequence: a new `..<timestamp>`
 * directory with one file per key (mode 0400), a `..data_tmp` link renamed
 * over `..data` (the one atomic switch), per-key links `NAME -> ..data/NAME`
 * created or removed, then the old directory removed. A reader of `..data`
 * (keyfleet's loader, or any program reading `DIR/NAME`) sees the old set or
 * the new one, never a mix.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { GENERATION_ENTRY } from '../../render/generation.js'
import { writeNewFileSync } from '../../repo/atomic.js'

const DATA = '..data'
const DATA_TMP = '..data_tmp'
/** Key names that are safe file names (env-var style): nothing else reaches the file system. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

const stamp = (): string => {
    const d = new Date()
    const p = (n: number, w = 2): string => String(n).padStart(w, '0')
    return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${randomBytes(4).readUInt32BE(0) % 1_000_000_000}`
}

const writeKey = (path: string, value: string): void => { writeNewFileSync(path, value, 0o400) }

/**
 * Swaps `entries` into `dir` (created 0700 when missing), with `generation` (the bundle's
 * `.keyfleet-generation` text: environment, agent, generation id, pool weights; no value) beside
 * them as a Secret volume has it, so a loader reading `dir` knows which render it serves.
 * @returns the names skipped because they are not safe file names (never written).
 */
export const writeVolume = (dir: string, entries: ReadonlyMap<string, string>, generation?: string): string[] => {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    let old: string | undefined
    try { old = readlinkSync(join(dir, DATA)) } catch { old = undefined }
    const fresh = stamp()
    const freshDir = join(dir, fresh)
    mkdirSync(freshDir, { mode: 0o700 })
    const skipped: string[] = []
    const written: string[] = []
    try {
        for (const [name, value] of entries) {
            if (!NAME.test(name)) { skipped.push(name); continue }
            writeKey(join(freshDir, name), value)
            written.push(name)
        }
        if (generation !== undefined) writeKey(join(freshDir, GENERATION_ENTRY), generation)
        chmodSync(freshDir, 0o755)
        rmSync(join(dir, DATA_TMP), { force: true })
        symlinkSync(fresh, join(dir, DATA_TMP))
        renameSync(join(dir, DATA_TMP), join(dir, DATA))
    } catch (error) {
        rmSync(freshDir, { recursive: true, force: true })
        throw error
    }
    for (const name of generation === undefined ? written : [...written, GENERATION_ENTRY]) {
        if (!lstatSync(join(dir, name), { throwIfNoEntry: false })) symlinkSync(join(DATA, name), join(dir, name))
    }
    for (const entry of readdirSync(dir)) {
        if (entry.startsWith('.') || written.includes(entry)) continue
        if (lstatSync(join(dir, entry)).isSymbolicLink()) unlinkSync(join(dir, entry))
    }
    if (old !== undefined && old !== fresh && old.startsWith('..')) rmSync(join(dir, old), { recursive: true, force: true })
    return skipped
}
