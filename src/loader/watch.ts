/**
 * Directory watching. The loader always watches directories, never the source
 * file: the kubelet replaces a Secret volume by renaming a `..data` symlink,
 * and a watch on the file keeps following the old inode and goes silent.
 * Events only say "look again"; their type and name are not trusted beyond a
 * cheap relevance filter (platforms report the same swap as rename, change or
 * write), because the store re-reads and compares content on every one.
 */
import { lstatSync, realpathSync, statSync, watch } from 'node:fs'
import { basename, dirname, relative, isAbsolute } from 'node:path'
import { errnoOf } from './errors.js'

/** What a watch function returns: Node's `FSWatcher` satisfies it. */
export interface WatchHandle {
    close(): void
    on(event: 'error', listener: (error: Error) => void): unknown
}

/**
 * Watches one directory, calling `listener` for every entry event. Must throw
 * (like `fs.watch`) when the watch cannot be created; a thrown ENOSPC/EMFILE
 * (inotify limits exhausted) makes the store fall back to polling.
 */
export type WatchFunction = (dir: string, listener: (eventType: string, filename: string | null) => void) => WatchHandle

/**
 * `fs.watch` on a directory. Persistent by default, like `fs.watch` itself: an
 * open store keeps the process alive until `close()`.
 */
export const nodeWatch = (persistent = true): WatchFunction => (dir, listener) =>
    watch(dir, { persistent }, (eventType, filename) => { listener(eventType, filename === null ? null : String(filename)) })

/** A directory to watch and which entry names in it matter. */
export interface WatchTarget {
    readonly dir: string
    readonly relevant: (filename: string | null) => boolean
}

const inside = (child: string, parent: string): boolean => {
    const rel = relative(parent, child)
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

const named = (...names: string[]) => (filename: string | null): boolean =>
    filename === null || names.includes(filename) || filename.startsWith('..')

/**
 * The directories to watch for `path` in its current state:
 * - a directory source: the directory itself (every event), plus its parent
 *   when `path` is a symlink (so a swap of the link itself is seen);
 * - a file source: its parent, filtered to its name and kubelet `..` entries,
 *   plus the directory of its final target when `path` is a symlink pointing
 *   outside that parent;
 * - a missing path: the nearest existing ancestor, filtered to the next component
 *   (the store re-arms deeper as each level appears).
 */
export const watchTargets = (path: string): WatchTarget[] => {
    const link = lstatSync(path, { throwIfNoEntry: false })
    const stat = link && statSync(path, { throwIfNoEntry: false })
    if (!link || !stat) {
        let child = path
        let dir = dirname(path)
        while (dir !== dirname(dir) && !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
            child = dir
            dir = dirname(dir)
        }
        return [{ dir, relevant: named(basename(child)) }]
    }
    const parent = dirname(path)
    const targets: WatchTarget[] = stat.isDirectory()
        ? [{ dir: path, relevant: () => true }]
        : [{ dir: parent, relevant: named(basename(path)) }]
    if (link.isSymbolicLink()) {
        if (stat.isDirectory()) {
            targets.push({ dir: parent, relevant: named(basename(path)) })
        } else {
            const real = realpathSync(path)
            if (!inside(dirname(real), parent)) targets.push({ dir: dirname(real), relevant: named(basename(real)) })
        }
    }
    return targets
}

interface Armed {
    readonly handle: WatchHandle
    readonly ino: number
    relevant: (filename: string | null) => boolean
}

/** The set of directory watches of one store. */
export class DirWatchers {
    readonly #watch: WatchFunction
    readonly #onEvent: () => void
    readonly #onFallback: (reason: string) => void
    readonly #armed = new Map<string, Armed>()
    #failed = false

    /**
     * @param onEvent - called for every relevant event (the store debounces).
     * @param onFallback - called when watching becomes impossible (the reason is an errno code);
     *   every watch is closed and the store must poll until a re-armed sync succeeds.
     */
    constructor(watchFn: WatchFunction, onEvent: () => void, onFallback: (reason: string) => void) {
        this.#watch = watchFn
        this.#onEvent = onEvent
        this.#onFallback = onFallback
    }

    /** True once watching has failed (the store polls until {@link DirWatchers.rearm} and a successful sync). */
    get failed(): boolean {
        return this.#failed
    }

    /**
     * Clears the failed state so the next {@link DirWatchers.sync} tries to
     * arm again (the store's re-watch attempt after a polling fallback). If
     * that sync fails too, `onFallback` is called again.
     */
    rearm(): void {
        this.#failed = false
    }

    /**
     * Makes the armed watches match `targets`: closes the ones no longer
     * wanted or whose directory was replaced (new inode), opens the new ones.
     * @returns true when a watch was newly armed: the caller should read once
     *   more, since a change may have happened before the watch existed.
     */
    sync(targets: readonly WatchTarget[]): boolean {
        if (this.#failed) return false
        const wanted = new Map<string, WatchTarget['relevant']>()
        for (const t of targets) {
            const prev = wanted.get(t.dir)
            wanted.set(t.dir, prev ? (f) => prev(f) || t.relevant(f) : t.relevant)
        }
        for (const [dir, armed] of this.#armed) {
            const ino = statSync(dir, { throwIfNoEntry: false })?.ino
            if (!wanted.has(dir) || ino !== armed.ino) this.#disarm(dir)
        }
        let armedNew = false
        for (const [dir, relevant] of wanted) {
            const existing = this.#armed.get(dir)
            if (existing) { existing.relevant = relevant; continue }
            const ino = statSync(dir, { throwIfNoEntry: false })?.ino
            if (ino === undefined) continue
            let handle: WatchHandle
            try {
                // inotify names the directory itself when it is deleted or moved (IN_DELETE_SELF):
                // always relevant, since the watch is dead and must be re-armed.
                const self = basename(dir)
                handle = this.#watch(dir, (_type, filename) => {
                    const armed = this.#armed.get(dir)
                    if (armed === undefined || filename === self || armed.relevant(filename)) this.#onEvent()
                })
            } catch (error) {
                const code = errnoOf(error)
                // The directory vanished between stat and watch: the next read re-arms.
                if (code === 'ENOENT' || code === 'ENOTDIR') continue
                this.#fail(code ?? 'watch failed')
                return false
            }
            handle.on('error', (error) => {
                const code = errnoOf(error)
                this.#disarm(dir)
                if (code === 'ENOSPC' || code === 'EMFILE' || code === 'ENFILE') this.#fail(code)
                else this.#onEvent()
            })
            this.#armed.set(dir, { handle, ino, relevant })
            armedNew = true
        }
        return armedNew
    }

    #disarm(dir: string): void {
        const armed = this.#armed.get(dir)
        if (!armed) return
        this.#armed.delete(dir)
        try { armed.handle.close() } catch { /* already closed */ }
    }

    #fail(reason: string): void {
        if (this.#failed) return
        this.#failed = true
        this.close()
        this.#onFallback(reason)
    }

    /** Closes every watch. */
    close(): void {
        for (const dir of [...this.#armed.keys()]) this.#disarm(dir)
    }

    /** The directories currently watched (for tests and diagnostics). */
    get dirs(): string[] {
        return [...this.#armed.keys()]
    }
}
