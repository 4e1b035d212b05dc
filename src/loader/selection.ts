/**
 * The store's side of usage-based selection (issue 18), kept out of store.ts:
 * gives each new snapshot's pools their strategy's selector over usage that
 * survives snapshots, turns provider answers into usage and cool-downs,
 * backs `keys.fetch` and `keys.stats()`.
 */
import type { CatalogIndex } from '../catalog/resolve.js'
import type { FetchDeps } from './fetch.js'
import { Pool, type KeyChoice } from './pool.js'
import { coolDownUntil, parseRateLimit, type HeadersLike, type RateLimitInfo } from './rate-limit-headers.js'
import type { Snapshot } from './snapshot.js'
import { weightsText } from '../render/generation.js'
import { attachSelector, fingerprintOf, resolveSelection, type Selection, type SelectionOptions } from './strategy.js'
import { keyStats, readyIn, UsageTracker, type KeyStats } from './usage.js'

/** A provider's answer, as `observe` takes it. */
export interface AnswerLike {
    readonly status: number
    readonly headers: HeadersLike
}

/** Usage-based selection for one store. */
export class KeySelection {
    readonly #selection: Selection
    readonly #index: CatalogIndex

    constructor(options: SelectionOptions | undefined, index: CatalogIndex) {
        this.#selection = resolveSelection(options, new UsageTracker(options?.windowMs ?? 60_000))
        this.#index = index
    }

    /** Attaches a selector to every pool of a snapshot being built. */
    attach(snapshot: Snapshot, coolUntil: (choice: KeyChoice) => number): void {
        // A pool without its bare member is also listed under the bare name (snapshot.ts), always after its
        // service (Map insertion order): attach once, by the service.
        const seen = new Set<Pool>()
        for (const [service, pool] of snapshot.pools) {
            if (seen.has(pool)) continue
            seen.add(pool)
            attachSelector(pool, service, this.#selection, this.#index.byService(service)?.weights, coolUntil)
        }
    }

    /**
     * Takes the pool weights the source delivered (deployment.yaml via render), ranked between the
     * `selection.weights` option and the catalog's. True when they differ from the ones held: the
     * store then re-attaches the selectors, even if no key changed.
     */
    deliver(weights: Readonly<Record<string, number>> | undefined): boolean {
        const text = (w: Readonly<Record<string, number>> | undefined): string => (w === undefined ? '' : weightsText(w))
        if (text(weights) === text(this.#selection.deployedWeights)) return false
        this.#selection.deployedWeights = weights
        return true
    }

    /** Mirrors a `reportFailure` cool-down into the member's usage. */
    coolDown(name: string, until: number): void {
        this.#selection.tracker.get(name)?.coolDown(until)
    }

    /**
     * Takes in an answer to `choice`; returns the numbers read and, for a 429/401, the
     * cool-down end the store should apply through `reportFailure` (undefined otherwise).
     */
    observe(snapshot: Snapshot, choice: KeyChoice, answer: AnswerLike, body: string | undefined): { info: RateLimitInfo; until: number | undefined; now: number } {
        const now = Date.now()
        const info = parseRateLimit(answer.headers, now, body)
        // A choice from before a rotation says nothing about the key served now.
        const current = snapshot.lookup.get(choice.name)
        if (current === undefined || current instanceof Pool || current.value !== choice.value) return { info, until: undefined, now }
        const until = coolDownUntil(answer.status, info, now, 60_000)
        const usage = this.#selection.tracker.member(choice.name, fingerprintOf(choice.value))
        usage.observe(info, until)
        if (answer.status === 429) usage.limited++
        if (answer.status === 401) usage.rejected++
        return { info, until, now }
    }

    /** What `keys.fetch` needs, over the store's `pick` and `observe`. */
    fetchDeps(snapshot: () => Snapshot, pick: (service: string) => KeyChoice | undefined, observe: (choice: KeyChoice, answer: AnswerLike, body?: string) => void): FetchDeps {
        const tracker = this.#selection.tracker
        return {
            pick: (service) => {
                const choice = pick(service)
                if (choice === undefined) return undefined
                // A pool's selector counts its picks; a single key is counted here. A fetch is slow
                // next to a clock read, so it always stamps the window (least-used already did).
                const pooled = snapshot().lookup.get(service) instanceof Pool
                const usage = tracker.member(choice.name, fingerprintOf(choice.value))
                if (!pooled) usage.record()
                if (!pooled || this.#selection.strategyOf(service) !== 'least-used') usage.stamp(Date.now())
                return choice
            },
            spec: (service) => this.#index.byService(service) ?? this.#index.resolve(service)?.spec,
            observe,
            inflight: (choice, delta) => {
                const usage = tracker.get(choice.name)
                usage?.addInflight(delta)
            },
            readyIn: (choice) => {
                const usage = tracker.get(choice.name)
                return usage === undefined ? 0 : readyIn(usage, Date.now())
            },
        }
    }

    /** `keys.stats()`. */
    stats(snapshot: Snapshot): KeyStats {
        return keyStats(snapshot, this.#index, this.#selection)
    }
}
