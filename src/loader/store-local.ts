/**
 * The local source (a file or a directory at `path`), split out of store.ts the
 * way the remote one lives in remote.ts: watches directories (or polls), reads
 * serialised, retries on a timer, and reports problems while its owner keeps
 * serving the last good keys. It owns its watchers and timers.
 */
import { KeyfleetError, isKeyfleetError } from '../errors.js'
import { LoaderCode, loaderError, systemCause } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { Polling } from './polling.js'
import { readLocal, type SourceRead } from './store-read.js'
import type { FallbackEvent, WatchingEvent } from './types.js'
import { DirWatchers, watchTargets } from './watch.js'

/** What the local source tells its owner. */
export interface LocalHost {
    /** A complete read with a new fingerprint: swap it in. */
    apply(read: SourceRead): void
    /** A problem; `report` is false while it may still be a write in progress, or was reported already. */
    problem(error: KeyfleetError, report: boolean): void
    /** The source is readable and the keys served are its keys. */
    healthy(): void
    /** Keys served now (for the "waiting for it to appear" message). */
    served(): number
    watching(event: WatchingEvent): void
    fallback(event: FallbackEvent): void
}

/** Reads `options.path`; see the module comment. */
export class LocalSource {
    readonly #o: ResolvedOptions
    readonly #path: string
    readonly #host: LocalHost
    readonly #polling: Polling
    #watchers: DirWatchers | undefined
    #fingerprint: string | undefined
    #reported: string | undefined
    #failStreak = 0
    #scheduled = false
    #reloading = false
    #dirty = false
    #closed = false
    #retryTimer: NodeJS.Timeout | undefined
    #settleTimer: NodeJS.Timeout | undefined
    #settleWake: (() => void) | undefined
    /** 'watch' or 'poll' (after a fallback, or with `watch: false`). */
    mode: 'watch' | 'poll'

    constructor(options: ResolvedOptions, path: string, host: LocalHost) {
        this.#o = options
        this.#path = path
        this.#host = host
        this.mode = options.watch === false ? 'poll' : 'watch'
        this.#polling = new Polling(options, {
            reload: () => { void this.reload() },
            rearm: () => {
                if (this.#closed || !this.#watchers) return false
                this.#watchers.rearm()
                this.#syncWatches()
                return !this.#watchers.failed
            },
            watching: (afterMs, attempts) => {
                this.mode = 'watch'
                host.watching({ afterMs, attempts })
                // The watch exists now; read once so a change since the last poll is not missed.
                void this.reload()
            },
        })
    }

    /** Arms the watches (or the poll), then reads once (in that order, so no change slips in between). */
    async start(): Promise<void> {
        if (this.#o.watch === false) this.#polling.start()
        else this.#watchers = new DirWatchers(this.#o.watch, () => { this.#schedule() }, (reason) => { this.#fallback(reason) })
        this.#syncWatches()
        await this.reload()
    }

    /** Stops watching, polling, retrying and any stability wait. */
    close(): void {
        this.#closed = true
        this.#watchers?.close()
        this.#polling.stop()
        clearTimeout(this.#retryTimer)
        clearTimeout(this.#settleTimer)
        this.#settleWake?.()
    }

    /** Reads are serialised: an event during an (async) decrypt marks the source dirty and reads again. */
    async reload(): Promise<void> {
        if (this.#closed) return
        if (this.#reloading) { this.#dirty = true; return }
        this.#reloading = true
        try {
            do {
                this.#dirty = false
                await this.#reloadOnce()
                if (this.#syncWatches()) this.#dirty = true
            } while (this.#dirty && !this.#closed)
        } finally {
            this.#reloading = false
        }
    }

    // Coalesces a burst of events into one read on the next turn (or after debounceMs).
    #schedule(): void {
        if (this.#scheduled || this.#closed) return
        this.#scheduled = true
        const run = (): void => { this.#scheduled = false; void this.reload() }
        if (this.#o.debounceMs > 0) setTimeout(run, this.#o.debounceMs).unref()
        else setImmediate(run)
    }

    async #reloadOnce(): Promise<void> {
        const path = this.#path
        try {
            const read = await readLocal(path, this.#o, this.#fingerprint, (ms) => this.#pause(ms), () => this.#closed)
            if (read.status === 'closed') return
            if (read.status === 'missing') {
                this.#fail(loaderError(LoaderCode.SOURCE_MISSING, `${path} does not exist (yet); serving ${this.#host.served()} last known keys and waiting for it to appear`, { file: path }))
                return
            }
            if (read.status === 'read') {
                this.#fingerprint = read.fingerprint
                this.#host.apply(read)
            }
            this.#healthy()
        } catch (error) {
            this.#fail(isKeyfleetError(error)
                ? error
                : new KeyfleetError('LOADER_INTERNAL', `unexpected failure while reading ${path}; keeping the last good keys (please report this)`, { file: path, cause: systemCause(error) }))
        }
    }

    // The stability check's wait; close() cuts it short. Resolves false once the source is closed.
    #pause(ms: number): Promise<boolean> {
        return new Promise((resolve) => {
            const wake = (): void => {
                clearTimeout(this.#settleTimer)
                this.#settleTimer = undefined
                this.#settleWake = undefined
                resolve(!this.#closed)
            }
            this.#settleWake = wake
            this.#settleTimer = setTimeout(wake, ms)
            if (!this.#o.persistent) this.#settleTimer.unref()
        })
    }

    #healthy(): void {
        this.#reported = undefined
        this.#failStreak = 0
        clearTimeout(this.#retryTimer)
        this.#retryTimer = undefined
        this.#host.healthy()
    }

    // A problem is reported only if it is still there after settleMs (an editor's
    // truncate-then-write is not worth an event); meanwhile the source retries on a timer.
    #fail(error: KeyfleetError): void {
        this.#failStreak++
        let report = false
        if (this.#failStreak > 1 || this.#o.settleMs === 0) {
            const key = `${error.code}\0${error.message}`
            if (key !== this.#reported) {
                this.#reported = key
                report = true
            }
        }
        this.#host.problem(error, report)
        clearTimeout(this.#retryTimer)
        const delay = this.#failStreak === 1 && this.#o.settleMs > 0 ? this.#o.settleMs : this.#o.pollIntervalMs
        this.#retryTimer = setTimeout(() => { this.#retryTimer = undefined; void this.reload() }, delay).unref()
    }

    #syncWatches(): boolean {
        if (!this.#watchers || this.#watchers.failed || this.#closed) return false
        try {
            return this.#watchers.sync(watchTargets(this.#path))
        } catch {
            // A path component vanished mid-check: the retry timer or the next event re-syncs.
            return false
        }
    }

    #fallback(reason: string): void {
        if (this.#closed) return
        this.mode = 'poll'
        // A failed re-watch attempt: still polling, already announced.
        if (!this.#polling.fallback()) return
        const error = loaderError(LoaderCode.POLLING_FALLBACK, `cannot watch ${this.#path} (${reason}: inotify watches or instances exhausted?); polling every ${this.#o.pollIntervalMs} ms instead. Raise fs.inotify.max_user_watches / max_user_instances to restore instant reloads`, { file: this.#path })
        this.#host.fallback({ reason, intervalMs: this.#o.pollIntervalMs, error })
    }
}
