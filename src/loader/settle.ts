/**
 * The stability check for single-file sources. A dotenv or JSON file written
 * in place, in more than one write, holds a prefix of its final content for a
 * moment, and a prefix often parses (`OPENAI_API_KEY=sk-proj-NEWn`). Nothing in
 * the bytes tells a prefix from a finished file, so the store trusts content
 * only once it has stopped changing for `settleMs`: either the file's mtime is
 * already that old, or a re-read after the remaining time finds the same bytes,
 * size and mtime. Directory sources skip this: the kubelet swaps `..data` in
 * one atomic rename, and their latency goal is about a millisecond.
 */
import { LoaderCode, loaderError } from './errors.js'
import { readSource, type FileSource, type RawSource } from './read-source.js'

/** How many times the content may change under the check before the read is given up as unstable. */
export const MAX_SETTLE_ROUNDS = 8

// File times come from the kernel's coarse clock, which lags the wall clock
// by up to one tick (4 ms at HZ=250, 10 ms at HZ=100): an mtime can look that much older than it is.
const COARSE_CLOCK_MS = 10

/**
 * How long to wait before `read` can be trusted: 0 when the file was last
 * written at least `settleMs` ago, else the rest of that time (all of it when
 * the mtime lies in the future, e.g. a skewed network file system).
 */
export const settleDelay = (read: FileSource, settleMs: number, now: number): number => {
    const age = now - read.stamp.mtimeMs - COARSE_CLOCK_MS
    if (age >= settleMs) return 0
    return age > 0 ? settleMs - age : settleMs
}

const sameContent = (a: FileSource, b: FileSource): boolean =>
    a.fingerprint === b.fingerprint && a.stamp.size === b.stamp.size && a.stamp.mtimeMs === b.stamp.mtimeMs

/**
 * Re-reads a single-file source until its content has been stable for `settleMs`.
 * @param first - the read that differed from the snapshot being served.
 * @param pause - waits (the store's cancellable timer); resolves false once the store is closed.
 * @returns the stable read; a read of another kind (`missing`, a directory now at
 *   the path) as soon as one is seen; undefined when `pause` reported the store closed.
 * @throws KeyfleetError `LOADER_SOURCE_UNREADABLE` when the bytes changed on each of
 *   {@link MAX_SETTLE_ROUNDS} re-reads; as `readSource` for a re-read that fails (a
 *   half-written file that does not parse, …). The caller keeps its last good keys.
 */
export const readSettled = async (
    path: string, first: FileSource, settleMs: number, pause: (ms: number) => Promise<boolean>,
): Promise<RawSource | undefined> => {
    let read = first
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
        const delay = settleDelay(read, settleMs, Date.now())
        if (delay === 0) return read
        if (!await pause(delay)) return undefined
        const again = readSource(path)
        if (again.kind === 'missing' || again.kind === 'directory') return again
        if (sameContent(read, again)) return read
        read = again
    }
    throw loaderError(LoaderCode.SOURCE_UNREADABLE, `${path} kept changing for ${MAX_SETTLE_ROUNDS} re-reads (${settleMs} ms apart); keeping the last good keys. Write it atomically: a temp file in the same directory, then rename`, { file: path })
}
