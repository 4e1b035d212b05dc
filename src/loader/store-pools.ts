/**
 * The store's pools, split out of store.ts: builds snapshots with their pools'
 * selectors and cool-downs, and everything that acts on a pool member —
 * `reportFailure`, `observe`, `fetch`, `stats`, and the weights a render delivers.
 * Holds no value beyond the key a cool-down belongs to (so a rotation drops it).
 */
import { fetchWithKey, type KeyFetchOptions } from './fetch.js'
import type { ResolvedOptions } from './options.js'
import { Pool, type KeyChoice } from './pool.js'
import type { RateLimitInfo } from './rate-limit-headers.js'
import { KeySelection, type AnswerLike } from './selection.js'
import { buildSnapshot, type Snapshot } from './snapshot.js'
import type { FailureOptions } from './types.js'
import type { KeyStats } from './usage.js'

/** The pools of one store, over its current snapshot (`current`). */
export class StorePools {
    readonly #o: ResolvedOptions
    readonly #current: () => Snapshot
    readonly #cooldowns = new Map<string, { until: number; value: string }>()
    readonly #selection: KeySelection

    constructor(options: ResolvedOptions, current: () => Snapshot) {
        this.#o = options
        this.#current = current
        this.#selection = new KeySelection(options.selection, options.index)
    }

    /**
     * A snapshot of `entries` (with the environment's values).
     * @param attach - attach the pools' selectors now; false for a snapshot that may be dropped
     *   (no key changed): the caller then calls {@link adopt} once it serves it, so a dropped
     *   snapshot never takes the members from the selectors serving now.
     */
    build(entries: ReadonlyMap<string, string>, generation: number, attach = true): Snapshot {
        const coolUntil = this.#coolUntil(Date.now())
        const snapshot = buildSnapshot(entries, this.#o.env, this.#o.index, generation, coolUntil, this.#o.preferNewest)
        if (attach) this.#attach(snapshot, coolUntil)
        return snapshot
    }

    /** Attaches the selectors of a snapshot built with `attach: false`, which is about to be served. */
    adopt(snapshot: Snapshot): void {
        this.#attach(snapshot, this.#coolUntil(Date.now()))
    }

    /**
     * Takes the pool weights the source delivered with its keys (deployment.yaml via render),
     * ranked between the `selection.weights` option and the catalog's; the next {@link build}
     * uses them. True when they differ from the ones held.
     */
    deliver(weights: Readonly<Record<string, number>> | undefined): boolean {
        return this.#selection.deliver(weights)
    }

    /** Re-attaches the current snapshot's selectors (weights changed, keys did not). */
    reattach(): void {
        this.#attach(this.#current(), this.#coolUntil(Date.now()))
    }

    /** `keys.reportFailure`. */
    reportFailure(key: string | KeyChoice, options: FailureOptions = {}): boolean {
        const snapshot = this.#current()
        const name = typeof key === 'string' ? key : key.name
        const choice = snapshot.lookup.get(name)
        if (choice === undefined || choice instanceof Pool) return false
        const r = this.#o.index.resolve(choice.name)
        const pool = r && snapshot.lookup.get(r.spec.service)
        if (!(pool instanceof Pool)) return false
        const until = Date.now() + Math.max(0, options.cooldownMs ?? 60_000)
        this.#cooldowns.set(choice.name, { until, value: choice.value })
        this.#selection.coolDown(choice.name, until)
        return pool.coolDown(choice.name, until)
    }

    /** `keys.observe`. */
    observe(choice: KeyChoice, response: AnswerLike, body?: string): RateLimitInfo {
        const { info, until, now } = this.#selection.observe(this.#current(), choice, response, body)
        if (until !== undefined) this.reportFailure(choice, { cooldownMs: until - now })
        return info
    }

    /** `keys.fetch`, picking through `pick`. */
    fetch(pick: (service: string) => KeyChoice | undefined, service: string, url: string | URL, init?: RequestInit, options?: KeyFetchOptions): Promise<Response> {
        const deps = this.#selection.fetchDeps(this.#current, pick, (c, r, b) => { this.observe(c, r, b) })
        return fetchWithKey(deps, service, url, init, options)
    }

    /** `keys.stats()`. */
    stats(): KeyStats {
        return this.#selection.stats(this.#current())
    }

    /**
     * A key its provider rejected sits out of its pool until it is rotated (a
     * cool-down is dropped when the value changes), if it is still the value served.
     */
    rejected(name: string, value: string): void {
        const choice = this.#current().lookup.get(name)
        if (choice === undefined || choice instanceof Pool || choice.value !== value) return
        this.reportFailure(choice, { cooldownMs: Infinity })
    }

    #coolUntil(now: number): (choice: KeyChoice) => number {
        return (choice) => {
            const c = this.#cooldowns.get(choice.name)
            // A rotated key starts fresh: the cool-down belonged to the old value.
            return c && c.value === choice.value && c.until > now ? c.until : 0
        }
    }

    #attach(snapshot: Snapshot, coolUntil: (choice: KeyChoice) => number): void {
        // preferNewest pools pick for themselves (issue 17), unless a selection strategy was asked for.
        if (!this.#o.preferNewest || this.#o.selection !== undefined) this.#selection.attach(snapshot, coolUntil)
    }
}
