/**
 * The remote (pull) source: polls the channel with conditional requests,
 * accepts only bundles that pass src/loader/remote-verify.ts, keeps the last
 * good one through every failure, and backs off (capped exponential, with
 * jitter) while the channel is unwell. Used by the key store and by
 * `keyfleet agent sync`; it owns its timers and one AbortController.
 */
import { createHash } from 'node:crypto'
import { KeyfleetError, isKeyfleetError } from '../errors.js'
import type { IdentitySource } from './decrypt.js'
import { LoaderCode, loaderError, systemCause } from './errors.js'
import { readCache, writeCache } from './remote-cache.js'
import { FetchFailure, fetchBundle } from './remote-fetch.js'
import type { ResolvedRemote } from './remote-options.js'
import { acceptBundle, type AcceptedBundle, type HeldBundle } from './remote-verify.js'

/** What the remote source tells its owner. */
export interface RemoteHost {
    /**
     * A new bundle was accepted (from the cache at start, or the channel).
     * It is held (and cached) only when this returns; a throw is reported as
     * `LOADER_APPLY_FAILED` and the next poll offers the bundle again.
     */
    apply(bundle: AcceptedBundle): void
    /** A problem; `fresh` is false when the same problem was reported already (emit once). */
    problem(error: KeyfleetError, fresh: boolean): void
    /** The channel answered well and the bundle held is current. */
    healthy(): void
}

/** Counters of one remote source, for `agent sync` status lines and the benchmark. */
export interface RemoteStats {
    requests: number
    notModified: number
    downloads: number
    bytes: number
}

/** Longest wait a `Retry-After` may impose. */
const MAX_RETRY_AFTER_MS = 3_600_000
const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16)

/** Polls one bundle URL; see the module comment. */
export class RemoteSource {
    readonly stats: RemoteStats = { requests: 0, notModified: 0, downloads: 0, bytes: 0 }
    #held: HeldBundle | undefined
    #etag: string | undefined
    // The refusal that belongs to the content behind #etag: a 304 for it is still that problem.
    #etagProblem: { readonly error: KeyfleetError; readonly key: string } | undefined
    #reported: string | undefined
    #failures = 0
    #timer: NodeJS.Timeout | undefined
    #closed = false
    readonly #abort = new AbortController()

    constructor(
        private readonly remote: ResolvedRemote,
        private readonly identity: IdentitySource,
        private readonly persistent: boolean,
        private readonly host: RemoteHost,
        private readonly random: () => number = Math.random,
    ) {}

    /** The bundle served now, if any. */
    get held(): HeldBundle | undefined {
        return this.#held
    }

    /** Serves the cache (if it verifies), then polls once; later polls run on their own timer. */
    async start(): Promise<void> {
        const cached = this.remote.cacheFile === undefined ? undefined : readCache(this.remote.cacheFile)
        if (cached !== undefined) {
            let accepted: AcceptedBundle | undefined
            try {
                accepted = await acceptBundle(cached, this.remote, this.identity, undefined, `the cached bundle of ${this.remote.display}`)
            } catch {
                // A cache that no longer verifies (key rotated, damaged) is simply not used; the channel decides.
            }
            if (accepted !== undefined && this.#apply(accepted, cached)) this.#held = accepted
        }
        await this.#poll()
    }

    close(): void {
        this.#closed = true
        clearTimeout(this.#timer)
        this.#abort.abort()
    }

    #report(error: KeyfleetError, key: string): void {
        this.host.problem(error, key !== this.#reported)
        this.#reported = key
    }

    #healthy(): void {
        this.#failures = 0
        this.#reported = undefined
        this.host.healthy()
    }

    async #poll(): Promise<void> {
        if (this.#closed) return
        let delay = this.#steady()
        try {
            const result = await fetchBundle(this.remote, this.#etag, this.#abort.signal)
            this.stats.requests++
            if (this.#closed) return
            if (result.status === 'not-modified') {
                this.stats.notModified++
                this.#failures = 0
                if (this.#etagProblem) this.#report(this.#etagProblem.error, this.#etagProblem.key)
                else this.#healthy()
            } else {
                this.stats.downloads++
                this.stats.bytes += result.bytes
                this.#failures = 0
                await this.#consider(result.body, result.etag)
            }
        } catch (error) {
            if (this.#closed) return
            this.stats.requests++
            this.#failures++
            if (error instanceof FetchFailure) {
                this.#report(error.error, error.error.code)
                delay = Math.max(Math.min(error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS), this.#backoff())
            } else {
                this.#report(new KeyfleetError('LOADER_INTERNAL', `unexpected failure while polling ${this.remote.display}; keeping the last good keys (please report this)`, { cause: systemCause(error) }), 'LOADER_INTERNAL')
                delay = this.#backoff()
            }
        }
        if (this.#closed) return
        clearTimeout(this.#timer)
        this.#timer = setTimeout(() => { void this.#poll() }, delay)
        if (!this.persistent) this.#timer.unref()
    }

    async #consider(body: string, etag: string | undefined): Promise<void> {
        this.#etag = etag
        if (this.#held !== undefined && body === this.#held.text) {
            this.#etagProblem = undefined
            this.#healthy()
            return
        }
        let accepted: AcceptedBundle
        try {
            accepted = await acceptBundle(body, this.remote, this.identity, this.#held)
        } catch (error) {
            const refusal = isKeyfleetError(error) ? error : new KeyfleetError('LOADER_INTERNAL', `unexpected failure while checking the bundle of ${this.remote.display}; keeping the last good keys (please report this)`)
            this.#etagProblem = { error: refusal, key: `${refusal.code}\0${digest(body)}` }
            this.#report(refusal, this.#etagProblem.key)
            return
        }
        if (this.#closed) return
        // Apply first: a bundle the owner could not apply is neither held nor cached, so the next poll
        // (a full download: the ETag is forgotten) offers it again instead of calling the old keys current.
        if (!this.#apply(accepted, body)) {
            this.#etag = undefined
            this.#etagProblem = undefined
            return
        }
        this.#held = accepted
        this.#etagProblem = undefined
        if (this.remote.cacheFile !== undefined) writeCache(this.remote.cacheFile, body)
        this.#healthy()
    }

    // Hands a verified bundle to the owner; false (reported once per bundle) when that threw.
    #apply(accepted: AcceptedBundle, body: string): boolean {
        try {
            this.host.apply(accepted)
            return true
        } catch (error) {
            const cause = isKeyfleetError(error) ? error : systemCause(error)
            this.#report(loaderError(LoaderCode.APPLY_FAILED, `a verified bundle from ${this.remote.display} could not be applied (${cause.message}); keeping the last good keys, the next poll tries again`, { cause }), `${LoaderCode.APPLY_FAILED}\0${digest(body)}`)
            return false
        }
    }

    // The steady interval, 0.9–1.1 × pollMs: hosts started together drift apart, the mean rate stays 1/pollMs.
    #steady(): number {
        return Math.round(this.remote.pollMs * (0.9 + 0.2 * this.random()))
    }

    // Capped exponential backoff with jitter: pollMs · 2^(n-1), capped, times 0.5–1.
    #backoff(): number {
        const base = Math.min(this.remote.backoffMaxMs, this.remote.pollMs * 2 ** Math.min(30, this.#failures - 1))
        return Math.round(base * (0.5 + 0.5 * this.random()))
    }
}
