/**
 * Polling, when watching is off or impossible, and the way back to watching.
 * inotify pressure is often temporary (another pod's leak, a burst of
 * watchers), so a fallback to polling is not forever: the watch is retried
 * with a doubling delay up to a cap, and polling stops once it works.
 */
import type { ResolvedOptions } from './options.js'

/** What the polling state machine needs from the store. */
export interface PollingHost {
    /** Re-read the source. */
    reload(): void
    /** Re-arm the directory watches; true when watching works again. */
    rearm(): boolean
    /** Watching resumed after a fallback. */
    watching(afterMs: number, attempts: number): void
}

/** Poll timer plus re-watch backoff; owns every timer it starts. */
export class Polling {
    #pollTimer: NodeJS.Timeout | undefined
    #rewatchTimer: NodeJS.Timeout | undefined
    // Set while polling after a fallback: when it began, the current backoff delay, attempts so far.
    #fallbackAt: number | undefined
    #delay = 0
    #attempts = 0
    #stopped = false

    constructor(private readonly options: Pick<ResolvedOptions, 'pollIntervalMs' | 'persistent' | 'rewatch'>, private readonly host: PollingHost) {}

    /** True while the poll timer runs. */
    get active(): boolean {
        return this.#pollTimer !== undefined
    }

    /** Starts polling (idempotent). Polling stands in for the watch, so it holds the process the way the watch would have. */
    start(): void {
        if (this.#pollTimer || this.#stopped) return
        this.#pollTimer = setInterval(() => { this.host.reload() }, this.options.pollIntervalMs)
        if (!this.options.persistent) this.#pollTimer.unref()
    }

    /**
     * Watching failed: poll, and schedule a re-watch.
     * @returns true the first time (the caller announces the fallback), false for a failed re-watch attempt.
     */
    fallback(): boolean {
        if (this.#stopped) return false
        this.start()
        const first = this.#fallbackAt === undefined
        if (first) {
            this.#fallbackAt = Date.now()
            this.#delay = 0
            this.#attempts = 0
        }
        this.#scheduleRewatch()
        return first
    }

    /** Clears every timer; nothing runs afterwards. */
    stop(): void {
        this.#stopped = true
        clearInterval(this.#pollTimer)
        clearTimeout(this.#rewatchTimer)
        this.#pollTimer = undefined
        this.#rewatchTimer = undefined
    }

    #scheduleRewatch(): void {
        const schedule = this.options.rewatch
        if (schedule === false || this.#stopped) return
        this.#delay = this.#delay === 0 ? schedule.initialMs : Math.min(schedule.maxMs, this.#delay * 2)
        clearTimeout(this.#rewatchTimer)
        this.#rewatchTimer = setTimeout(() => { this.#rewatchTimer = undefined; this.#rewatch() }, this.#delay)
        if (!this.options.persistent) this.#rewatchTimer.unref()
    }

    #rewatch(): void {
        if (this.#stopped || this.#fallbackAt === undefined) return
        this.#attempts++
        // Failed again: the watcher's failure callback has called fallback(), which scheduled the next attempt.
        if (!this.host.rearm()) return
        const afterMs = Date.now() - this.#fallbackAt
        this.#fallbackAt = undefined
        this.#delay = 0
        clearInterval(this.#pollTimer)
        this.#pollTimer = undefined
        this.host.watching(afterMs, this.#attempts)
    }
}
