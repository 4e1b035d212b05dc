/**
 * Atomic file replacement: write a temp file in the same directory, fsync,
 * rename over the target. An error leaves either the old or the new file,
 * never a half-written one, and no temp file behind. A process killed outright
 * (SIGKILL, power loss) cannot clean up, so each temp name carries the writer's
 * scope (host and pid namespace) and pid, and the next write next to the same
 * target removes temps whose writer is gone. A temp from another scope (a
 * container and its host sharing a bind mount, two machines on one network
 * file system) is never removed: its pid means nothing here.
 */
import { closeSync, copyFileSync, fsyncSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { KeyfleetError, isKeyfleetError } from '../errors.js'

let scopeMemo: string | undefined
/** Where this process's pids mean something: a hash of the host name and the pid namespace (Linux). */
const scope = (): string => {
    if (scopeMemo !== undefined) return scopeMemo
    let ns = ''
    try { ns = readlinkSync('/proc/self/ns/pid') } catch { /* not Linux: the host name alone */ }
    scopeMemo = createHash('sha256').update(`${hostname()}\0${ns}`).digest('hex').slice(0, 8)
    return scopeMemo
}

/** A temp path next to `target` (same filesystem, so rename is atomic): `.<name>.kf-<scope>-<pid>-<random>.tmp`. */
export const tempPathFor = (target: string): string =>
    join(dirname(target), `.${basename(target)}.kf-${scope()}-${process.pid}-${randomBytes(6).toString('hex')}.tmp`)

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
const alive = (pid: number): boolean => {
    if (pid === process.pid) return true
    try { process.kill(pid, 0); return true } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM' }
}

/**
 * Removes the temp files of `target` that a killed writer of this scope left (the pid in the
 * name no longer exists); a live writer's temp, or one from another scope, is never touched. Best effort: a directory that cannot be read
 * is left to the write itself to report.
 * @returns the names removed.
 */
export const removeStaleTemps = (target: string): string[] => {
    const dir = dirname(target)
    const prefix = `.${basename(target)}.kf-`
    let names: string[]
    try { names = readdirSync(dir) } catch { return [] }
    const removed: string[] = []
    for (const name of names) {
        if (!name.startsWith(prefix)) continue
        const m = /^([0-9a-f]{8})-(\d{1,10})-[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length))
        if (!m || m[1] !== scope() || alive(Number(m[2]))) continue
        rmSync(join(dir, name), { force: true })
        removed.push(name)
    }
    return removed
}

// Temp files in flight, so that an interrupted process (Ctrl-C) can remove them: `finally` does not run on exit.
// One set per process, however many copies of this module are loaded: the CLI bundle gives each command its
// own bundle, and main.js's signal handler must see the temps the command's copy registered.
const PENDING = Symbol.for('keyfleet.pendingTemps')
const pending: Set<string> = ((globalThis as { [PENDING]?: Set<string> })[PENDING] ??= new Set<string>())

/** Removes every temp file an operation in flight still holds. Safe to call from an exit or signal handler. */
export const removePendingTemps = (): void => {
    for (const path of pending) rmSync(path, { force: true })
    pending.clear()
}

/** rename(2), with a typed error when the temp file is gone (another process removed it): the target is untouched. */
const renameOver = (temp: string, target: string): void => {
    try {
        renameSync(temp, target)
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        throw new KeyfleetError('WRITE_TEMP_VANISHED', `${target} was not changed: the temp copy being written was removed by another process before it could replace the file; run the command again`, { cause: error, file: target })
    }
}

/**
 * Creates `path` (it must not exist: `wx`, so a planted file or link is never written through) with
 * `mode`, writes all of `content` and fsyncs it. The building block of every atomic write here,
 * of the loader's bundle cache and of `agent sync`'s volume files.
 */
export const writeNewFileSync = (path: string, content: string | Uint8Array, mode: number): void => {
    const fd = openSync(path, 'wx', mode)
    try {
        const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
        let offset = 0
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset)
        fsyncSync(fd)
    } finally {
        closeSync(fd)
    }
}

/**
 * Writes `content` to `target` atomically with `mode` (default 0600: keyfleet
 * writes secrets or their ciphertext, which need no wider access).
 */
export const writeFileAtomic = (target: string, content: string | Uint8Array, mode = 0o600): void => {
    removeStaleTemps(target)
    const temp = tempPathFor(target)
    pending.add(temp)
    try {
        writeNewFileSync(temp, content, mode)
        renameOver(temp, target)
    } catch (error) {
        rmSync(temp, { force: true })
        throw error
    } finally {
        pending.delete(temp)
    }
}

/**
 * {@link writeFileAtomic} with a check between writing the temp file and the
 * rename: `check` receives the temp path and throws to abandon the write (the
 * target is left as it was, the temp file removed).
 */
export const writeFileAtomicChecked = async (target: string, content: string | Uint8Array, mode: number, check: (tempPath: string) => Promise<void>): Promise<void> =>
    viaTemp(target, (temp) => { writeNewFileSync(temp, content, mode) }, check)

/**
 * Runs `change` on a temp copy of `target` and renames the copy over the
 * target only when `change` succeeds. Used around in-place sops operations
 * (set, unset, updatekeys, rotate), which otherwise rewrite the file in place.
 * @param change - receives the temp copy's path.
 */
export const changeViaTempCopy = async <T>(target: string, change: (tempPath: string) => Promise<T>): Promise<T> =>
    viaTemp(target, (temp) => { copyFileSync(target, temp) }, change)

/**
 * The temp-copy protocol both helpers share: `prepare` fills the temp path, `work` runs on it, and
 * only its success renames the copy over `target`; the copy never outlives the call. Errors name
 * the file the user knows, not our temp copy.
 */
const viaTemp = async <T>(target: string, prepare: (tempPath: string) => void, work: (tempPath: string) => Promise<T>): Promise<T> => {
    removeStaleTemps(target)
    const temp = tempPathFor(target)
    pending.add(temp)
    try {
        prepare(temp)
        const result = await work(temp)
        renameOver(temp, target)
        return result
    } catch (error) {
        if (isKeyfleetError(error) && error.message.includes(basename(temp))) {
            throw new KeyfleetError(error.code, error.message.replaceAll(basename(temp), basename(target)), { cause: error.cause, file: target })
        }
        throw error
    } finally {
        rmSync(temp, { force: true })
        pending.delete(temp)
    }
}
