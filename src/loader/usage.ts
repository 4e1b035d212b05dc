/**
 * Per-member usage the selection strategies read (issue 18): calls in a
 * sliding window, the last quota a provider reported, cool-downs. Numbers
 * only; a member is known by its canonical name, and its usage starts afresh
 * when the value under that name changes (a rotated key has its own quota).
 */
import type { CatalogIndex } from '../catalog/resolve.js'
import { Pool } from './pool.js'
import type { RateLimitInfo } from './rate-limit-headers.js'
import type { Snapshot } from './snapshot.js'
import type { Selection, StrategyName, WeightSource } from './strategy.js'

/** Buckets of the sliding window: the window is counted to within 1/BUCKETS of its length. */
const BUCKETS = 12

/** A counter a selector shares with its members, bumped whenever one of them changes (see {@link MemberUsage.changes}). */
export interface ChangeCell { n: number }

/** One pool member's usage. Fields are public for the strategies' hot loops; treat them as read-only outside this module. */
export class MemberUsage {
    readonly name: string
    weight = 1
    weightFrom: WeightSource = 'default'
    /** Calls (picks through the service, and fetches) since the value was first seen. */
    calls = 0
    /** Picks not yet followed by an observed answer: in flight, or never observed. */
    pending = 0
    /** `keys.fetch` requests out now (exact, unlike `pending`, which a window refill clears). */
    inflight = 0
    limited = 0
    rejected = 0
    /** Epoch ms until which the member sits out; 0 when it does not, Infinity until rotated. */
    coolUntil = 0
    limitRequests = -1
    remainingRequests = -1
    resetRequestsAt = 0
    remainingTokens = -1
    resetTokensAt = 0
    readonly #bucketMs: number
    readonly #slots = new Float64Array(BUCKETS)
    readonly #counts = new Float64Array(BUCKETS)
    #fingerprint: string
    /**
     * Bumped by every change of the numbers a score is made of (calls, answers, cool-downs,
     * requests in flight, resets). It is the cell of the selector serving the member now
     * (headroom caches scores and recomputes when it moved); only that selector's own picks
     * ({@link recordCached}) leave it.
     */
    changes: ChangeCell = { n: 0 }

    constructor(name: string, fingerprint: string, windowMs: number) {
        this.name = name
        this.#fingerprint = fingerprint
        this.#bucketMs = Math.max(1, windowMs / BUCKETS)
    }

    /** @internal Starts afresh when the value changed. */
    rebase(fingerprint: string): void {
        if (fingerprint === this.#fingerprint) return
        this.changes.n++
        this.#fingerprint = fingerprint
        this.calls = this.pending = this.inflight = this.limited = this.rejected = this.coolUntil = 0
        this.limitRequests = this.remainingRequests = this.remainingTokens = -1
        this.resetRequestsAt = this.resetTokensAt = 0
        this.#slots.fill(0)
        this.#counts.fill(0)
    }

    /**
     * Counts one call. The clock is not read here: on this class of machine a
     * `Date.now()` costs more than the whole pick, so the window is stamped
     * separately ({@link stamp}) where the time is known anyway.
     */
    record(): void {
        this.changes.n++
        this.calls++
        this.pending++
    }

    /** @internal {@link record} for a selector that updates its own cached score of this member. */
    recordCached(): void {
        this.calls++
        this.pending++
    }

    /** Puts one call at `now` into the sliding window. */
    stamp(now: number): void {
        const slot = Math.floor(now / this.#bucketMs)
        const i = slot % BUCKETS
        if (this.#slots[i] !== slot) { this.#slots[i] = slot; this.#counts[i] = 0 }
        this.#counts[i] = (this.#counts[i] as number) + 1
    }

    /** Calls in the last window (to within one bucket). */
    windowCalls(now: number): number {
        const oldest = Math.floor(now / this.#bucketMs) - BUCKETS + 1
        let sum = 0
        for (let i = 0; i < BUCKETS; i++) if ((this.#slots[i] as number) >= oldest) sum += this.#counts[i] as number
        return sum
    }

    /** Takes in what an answer said; `coolUntil` from the answer's status, if any. */
    observe(info: RateLimitInfo, coolUntil: number | undefined): void {
        this.changes.n++
        if (this.pending > 0) this.pending--
        if (info.limitRequests !== undefined) this.limitRequests = info.limitRequests
        if (info.remainingRequests !== undefined && this.#fresher(info.remainingRequests, info.resetRequestsAt ?? 0)) {
            this.remainingRequests = info.remainingRequests
            this.resetRequestsAt = info.resetRequestsAt ?? 0
        }
        if (info.remainingTokens !== undefined) { this.remainingTokens = info.remainingTokens; this.resetTokensAt = info.resetTokensAt ?? 0 }
        if (coolUntil !== undefined) this.coolDown(coolUntil)
    }

    // Answers to concurrent requests arrive out of order: within one window (a reset no later
    // than the known one, give or take a second), the lower remaining is the newer truth.
    #fresher(remaining: number, resetAt: number): boolean {
        return this.remainingRequests < 0 || remaining <= this.remainingRequests || this.resetRequestsAt === 0 || resetAt > this.resetRequestsAt + 1000
    }

    /** Sits out until `until` (epoch ms; Infinity until rotated). A later cool-down wins. */
    coolDown(until: number): void {
        this.changes.n++
        this.coolUntil = Math.max(this.coolUntil, until)
    }

    /** A `keys.fetch` request with this member started (+1) or ended (-1). */
    addInflight(delta: number): void {
        this.changes.n++
        this.inflight = Math.max(0, this.inflight + delta)
    }

    /** Ends a cool-down that is over (the strategies call it once they read the clock). */
    cooled(): void {
        this.changes.n++
        this.coolUntil = 0
    }

    /**
     * Requests the member can still make, as best known at `now`: the last
     * reported remaining minus picks not observed since; Infinity when no
     * provider said (or its window has reset since); 0 while cooling or
     * while its tokens are spent before their reset.
     */
    headroom(now: number): number {
        if (this.coolUntil !== 0) {
            if (this.coolUntil > now) return 0
            this.cooled()
        }
        if (this.remainingTokens === 0) {
            if (this.resetTokensAt > now) return 0
            this.changes.n++
            this.remainingTokens = -1
        }
        if (this.remainingRequests < 0) return Infinity
        if (this.resetRequestsAt !== 0 && this.resetRequestsAt <= now) {
            this.changes.n++
            // The window refilled: back to the limit if one was reported, else unknown.
            this.remainingRequests = this.limitRequests
            this.resetRequestsAt = 0
            // Unobserved picks are forgotten (a get()-only caller never answers), requests in flight are not.
            this.pending = 0
            if (this.remainingRequests < 0) return Infinity
        }
        return Math.max(0, this.remainingRequests - Math.max(this.pending, this.inflight))
    }
}

/**
 * Milliseconds until `u` can take the call just picked for it (0: now): its cool-down, or
 * the reset of a request or token quota the provider reported spent. Infinity until rotated.
 */
export const readyIn = (u: MemberUsage, now: number): number => {
    let until = u.coolUntil > now ? u.coolUntil : 0
    // pending counts the pick being made: the quota must cover it, not one more.
    if (u.remainingRequests >= 0 && u.remainingRequests - Math.max(u.pending - 1, u.inflight) <= 0 && u.resetRequestsAt > now) until = Math.max(until, u.resetRequestsAt)
    if (u.remainingTokens === 0 && u.resetTokensAt > now) until = Math.max(until, u.resetTokensAt)
    return until === 0 ? 0 : until - now
}

/** The usage of every member seen, by canonical name; lives as long as the store. */
export class UsageTracker {
    readonly #members = new Map<string, MemberUsage>()
    readonly windowMs: number

    constructor(windowMs: number) {
        this.windowMs = windowMs
    }

    /** The usage of `name` (created on first sight); `fingerprint` identifies the value without holding it in the tracker's output. */
    member(name: string, fingerprint: string): MemberUsage {
        let m = this.#members.get(name)
        if (m === undefined) this.#members.set(name, m = new MemberUsage(name, fingerprint, this.windowMs))
        else m.rebase(fingerprint)
        return m
    }

    /** The usage of `name` if it was seen. */
    get(name: string): MemberUsage | undefined {
        return this.#members.get(name)
    }
}

/** One member in {@link KeyStats}: its name and numbers, never its value. */
export interface MemberStats {
    /** Canonical name, e.g. `OPENAI_API_KEY_2`. */
    readonly name: string
    readonly weight: number
    /** Where the weight came from: the `selection.weights` option, deployment.yaml (delivered by render), the catalog, or the default 1. */
    readonly weightFrom: WeightSource
    /** Calls since its value was first seen (picks through the service, fetches). */
    readonly calls: number
    /** Calls within the sliding window (`windowMs`). */
    readonly windowCalls: number
    /** Answers with 429 / 401 observed. */
    readonly limited: number
    readonly rejected: number
    /** Milliseconds of cool-down left; 0 when available. */
    readonly coolingForMs: number
    /** True when it sits out until rotated (after a 401, or a rejection by the live check). */
    readonly coolingUntilRotated: boolean
    /** Last reported remaining requests / tokens, null when no provider said. */
    readonly remainingRequests: number | null
    readonly remainingTokens: number | null
    /** Milliseconds until the reported request window resets, null when unknown or past. */
    readonly resetInMs: number | null
}

/** One service in {@link KeyStats}. */
export interface ServiceStats {
    readonly service: string
    readonly strategy: StrategyName
    /** In pool order. */
    readonly members: readonly MemberStats[]
}

/** What `keys.stats()` returns: plain JSON data, names and numbers only. */
export interface KeyStats {
    readonly windowMs: number
    /** Every catalog service the store serves, by name. */
    readonly services: readonly ServiceStats[]
}

const memberStats = (name: string, u: MemberUsage | undefined, now: number): MemberStats => ({
    name,
    weight: u?.weight ?? 1,
    weightFrom: u?.weightFrom ?? 'default',
    calls: u?.calls ?? 0,
    windowCalls: u?.windowCalls(now) ?? 0,
    limited: u?.limited ?? 0,
    rejected: u?.rejected ?? 0,
    coolingForMs: u && u.coolUntil > now && Number.isFinite(u.coolUntil) ? Math.ceil(u.coolUntil - now) : 0,
    coolingUntilRotated: u?.coolUntil === Infinity,
    remainingRequests: u && u.remainingRequests >= 0 ? u.remainingRequests : null,
    remainingTokens: u && u.remainingTokens >= 0 ? u.remainingTokens : null,
    resetInMs: u && u.resetRequestsAt > now ? Math.ceil(u.resetRequestsAt - now) : null,
})

/** The stats of every catalog service in `snapshot`. */
export const keyStats = (snapshot: Snapshot, index: CatalogIndex, selection: Selection): KeyStats => {
    const now = Date.now()
    const services: ServiceStats[] = []
    for (const spec of index.catalog.secrets) {
        const entry = snapshot.lookup.get(spec.service)
        if (entry === undefined) continue
        const names = entry instanceof Pool ? entry.members.map((m) => m.name) : [entry.name]
        services.push({
            service: spec.service,
            strategy: selection.strategyOf(spec.service),
            members: names.map((n) => memberStats(n, selection.tracker.get(n), now)),
        })
    }
    return { windowMs: selection.tracker.windowMs, services }
}
