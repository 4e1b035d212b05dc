/**
 * Selection strategies for key pools (issue 18). A {@link Selector} replaces
 * a pool's plain round robin: `round-robin` (weighted when weights are given),
 * `least-used` (fewest calls in a sliding window, per unit of weight) and
 * `headroom` (most remaining quota by the provider's last rate-limit headers,
 * skipping members inside their reset window). Every pick allocates nothing;
 * `round-robin` and `headroom` read the clock only when a member is cooling
 * or spent (a clock read costs more than a pick on some machines).
 */
import { createHash } from 'node:crypto'
import type { KeyChoice, Pool, Selector } from './pool.js'
import type { ChangeCell, MemberUsage, UsageTracker } from './usage.js'

/** The strategies a pool can use. */
export type StrategyName = 'round-robin' | 'least-used' | 'headroom'

/** Every {@link StrategyName}, in documentation order. */
export const STRATEGIES: readonly StrategyName[] = ['round-robin', 'least-used', 'headroom']

/** Options of `openKeys({ selection })`. */
export interface SelectionOptions {
    /** The strategy of every pool. Default `round-robin`. */
    readonly strategy?: StrategyName | undefined
    /** Per-service overrides, e.g. `{ openai: 'headroom' }`. */
    readonly strategies?: Readonly<Record<string, StrategyName>> | undefined
    /** The sliding window of `least-used` and of the per-member window counts in `stats()`, in ms. Default 60 000. */
    readonly windowMs?: number | undefined
    /** Weight per pool member (`{ OPENAI_API_KEY_2: 3 }`), over deployment.yaml's and the catalog's `weights`. Default 1. */
    readonly weights?: Readonly<Record<string, number>> | undefined
}

/** The fingerprint a member's usage is keyed by: a digest, so usage never holds a value. */
export const fingerprintOf = (value: string): string => createHash('sha256').update(value).digest('base64')

const now = (): number => Date.now()

/**
 * Smooth weighted round robin (nginx's): each pick adds every member's weight
 * to its credit and takes the highest, which then pays the total back. Equal
 * weights give plain rotation. Cooling members are skipped.
 */
class RoundRobin implements Selector {
    readonly #credit: Float64Array
    readonly #total: number
    constructor(readonly members: readonly KeyChoice[], readonly usage: readonly MemberUsage[]) {
        this.#credit = new Float64Array(members.length)
        this.#total = usage.reduce((n, u) => n + u.weight, 0)
    }
    next(): KeyChoice {
        const n = this.members.length
        let best = -1
        let t = -1
        for (let i = 0; i < n; i++) {
            const u = this.usage[i] as MemberUsage
            if (u.coolUntil !== 0) {
                if (t < 0) t = now()
                if (u.coolUntil > t) continue
                u.cooled()
            }
            this.#credit[i] = (this.#credit[i] as number) + u.weight
            if (best < 0 || (this.#credit[i] as number) > (this.#credit[best] as number)) best = i
        }
        if (best < 0) return soonest(this.members, this.usage, t)
        this.#credit[best] = (this.#credit[best] as number) - this.#total
        ;(this.usage[best] as MemberUsage).record()
        return this.members[best] as KeyChoice
    }
}

/** Fewest calls in the sliding window per unit of weight; ties go round robin. */
class LeastUsed implements Selector {
    #cursor = 0
    constructor(readonly members: readonly KeyChoice[], readonly usage: readonly MemberUsage[]) {}
    next(): KeyChoice {
        const n = this.members.length
        const t = now()
        let best = -1
        let bestScore = Infinity
        for (let k = 0; k < n; k++) {
            const i = (this.#cursor + k) % n
            const u = this.usage[i] as MemberUsage
            if (u.coolUntil !== 0) {
                if (u.coolUntil > t) continue
                u.cooled()
            }
            const score = u.windowCalls(t) / u.weight
            if (score < bestScore) { best = i; bestScore = score }
        }
        if (best < 0) return soonest(this.members, this.usage, t)
        this.#cursor = (best + 1) % n
        const u = this.usage[best] as MemberUsage
        u.record()
        u.stamp(t)
        return this.members[best] as KeyChoice
    }
}

/**
 * Most remaining requests by the last rate-limit headers (minus picks not yet
 * observed), times weight; a member never observed counts as unlimited, so it
 * is tried and learnt. Cooling members, and members whose quota is spent
 * until their reset, are skipped. Ties go round robin.
 *
 * While every member is on the clock-free path (not cooling, tokens not spent,
 * requests unknown or left), the scores are cached and a pick is one scan of
 * them: a pick lowers only its own member's score (one more pending request),
 * which the pick updates itself; and when the member in turn holds the top
 * score, not even the scan. Anything else that moves a score (an answer, a
 * cool-down, a request ending, a reset, a pick by another selector) bumps the
 * change count the selector shares with its members, and the next pick recomputes. The picks are the same either way.
 */
class Headroom implements Selector {
    #cursor = 0
    readonly #unweighted: boolean
    readonly #scores: Float64Array
    readonly #changes: ChangeCell = { n: 0 }
    // The change count the cached scores belong to (-1: none), and the last count a cache was tried at.
    #cachedAt = -1
    #triedAt = -1
    // While cached: the highest score and how many members hold it (#countTop).
    #top = Infinity
    #atTop = 0
    constructor(readonly members: readonly KeyChoice[], readonly usage: readonly MemberUsage[]) {
        this.#unweighted = usage.every((u) => u.weight === 1)
        this.#scores = new Float64Array(usage.length)
        // From now on, any change to a member (a pick through an older snapshot's selector too) moves this
        // count. The selector they leave sees its own count move once, and never caches them again (#fill).
        for (const u of usage) { u.changes.n++; u.changes = this.#changes }
    }
    next(): KeyChoice {
        // The common pick, kept small so that V8 inlines it into get(): the scores are cached and the member
        // in turn holds the top, finite score (with equal quotas, every pick: they take turns as round robin
        // does). Ties go to the first member in turn, so that member is the pick without a scan.
        const best = this.#cursor
        const bestScore = this.#scores[best] as number
        if (this.#cachedAt !== this.#changes.n || bestScore !== this.#top || bestScore === Infinity) return this.#slowNext()
        const n = this.#scores.length
        this.#cursor = best + 1 === n ? 0 : best + 1
        const u = this.usage[best] as MemberUsage
        u.recordCached()
        this.#lower(best, bestScore, u)
        return this.members[best] as KeyChoice
    }

    // A cached pick lowers its member's score by one pending request; at zero room the member leaves the
    // clock-free path (its window may have reset), so the next pick scans again.
    #lower(best: number, bestScore: number, u: MemberUsage): void {
        const room = u.remainingRequests - (u.pending > u.inflight ? u.pending : u.inflight)
        if (room <= 0) { this.#cachedAt = -1; return }
        const score = this.#unweighted ? room : room * u.weight
        this.#scores[best] = score
        // The pick held the top score (a pick never raises one): the last member to leave the top lowers it.
        if (bestScore === this.#top && score !== bestScore && --this.#atTop === 0) this.#countTop()
    }

    // Every other pick: a full scan when the cache is stale, else a scan of the cached scores.
    #slowNext(): KeyChoice {
        if (this.#cachedAt !== this.#changes.n) {
            const choice = this.#scan()
            if (this.#triedAt !== this.#changes.n) this.#fill(this.#changes.n)
            return choice
        }
        const scores = this.#scores
        const n = scores.length
        let best = this.#cursor
        let bestScore = scores[best] as number
        let i = best
        for (let k = 1; k < n && bestScore !== Infinity; k++) {
            if (++i === n) i = 0
            const score = scores[i] as number
            if (score > bestScore) { best = i; bestScore = score }
        }
        this.#cursor = best + 1 === n ? 0 : best + 1
        const u = this.usage[best] as MemberUsage
        u.recordCached()
        if (bestScore !== Infinity) this.#lower(best, bestScore, u)
        return this.members[best] as KeyChoice
    }

    // The top cached score and how many members hold it.
    #countTop(): void {
        const scores = this.#scores
        let top = -Infinity
        let at = 0
        for (let i = 0; i < scores.length; i++) {
            const score = scores[i] as number
            if (score > top) { top = score; at = 1 } else if (score === top) at++
        }
        this.#top = top
        this.#atTop = at
    }

    // Caches the scores when every member is on the clock-free path with room left.
    #fill(versions: number): void {
        this.#triedAt = versions
        this.#cachedAt = -1
        const usage = this.usage
        for (let i = 0; i < usage.length; i++) {
            const u = usage[i] as MemberUsage
            // A member another selector took (a newer snapshot's) no longer reports its changes here.
            if (u.changes !== this.#changes || u.coolUntil !== 0 || u.remainingTokens === 0) return
            if (u.remainingRequests < 0) { this.#scores[i] = Infinity; continue }
            const room = u.remainingRequests - (u.pending > u.inflight ? u.pending : u.inflight)
            if (room <= 0) return
            this.#scores[i] = this.#unweighted ? room : room * u.weight
        }
        this.#countTop()
        this.#cachedAt = versions
    }

    #scan(): KeyChoice {
        const usage = this.usage
        const n = usage.length
        const unweighted = this.#unweighted
        let t = -1
        let best = -1
        let bestScore = 0
        let i = this.#cursor
        for (let k = 0; k < n; k++) {
            const u = usage[i] as MemberUsage
            const remaining = u.remainingRequests
            let room: number
            // Fast path without the clock: not cooling, tokens not spent, and requests unknown or left.
            // A positive estimate may be stale-low after a reset; the member's next answer corrects it.
            if (remaining < 0 && u.coolUntil === 0 && u.remainingTokens !== 0) {
                // Never observed: nothing beats unlimited, so the first such member in turn wins.
                best = i
                break
            }
            const used = u.pending > u.inflight ? u.pending : u.inflight
            if (remaining > used && u.coolUntil === 0 && u.remainingTokens !== 0) room = remaining - used
            else {
                if (t < 0) t = now()
                room = u.headroom(t)
                if (room === Infinity) { best = i; break }
            }
            const score = unweighted ? room : room * u.weight
            if (score > bestScore) { best = i; bestScore = score }
            if (++i === n) i = 0
        }
        if (best < 0) return soonest(this.members, usage, t)
        this.#cursor = best + 1 === n ? 0 : best + 1
        ;(usage[best] as MemberUsage).record()
        return this.members[best] as KeyChoice
    }
}

/**
 * When every member is out: the one whose cool-down or reset ends first. A
 * possibly limited key serves the caller better than none (as the plain pool does).
 */
const soonest = (members: readonly KeyChoice[], usage: readonly MemberUsage[], at: number): KeyChoice => {
    const t = at < 0 ? now() : at
    let best = 0
    let bestAt = Infinity
    usage.forEach((u, i) => {
        const until = Math.max(u.coolUntil > t ? u.coolUntil : 0, u.resetRequestsAt > t ? u.resetRequestsAt : 0, u.remainingTokens === 0 && u.resetTokensAt > t ? u.resetTokensAt : 0)
        if (until < bestAt) { best = i; bestAt = until }
    })
    ;(usage[best] as MemberUsage).record()
    return members[best] as KeyChoice
}

/** Where a member's weight came from, highest precedence first; `default` is 1. */
export type WeightSource = 'option' | 'deployment' | 'catalog' | 'default'

type Weights = Readonly<Record<string, number>>

/** The resolved selection of a store. */
export interface Selection {
    readonly tracker: UsageTracker
    /** The weights the render delivered with the keys (deployment.yaml `weights:`); set by the store on each read. */
    deployedWeights: Weights | undefined
    strategyOf(service: string): StrategyName
    /** A member's weight and its source: the `selection.weights` option, else deployment.yaml's, else the catalog's, else 1. */
    weightOf(name: string, catalogWeights: Weights | undefined): { weight: number; from: WeightSource }
}

const usable = (w: number | undefined): w is number => w !== undefined && Number.isFinite(w) && w > 0

/** Builds the {@link Selection} of `openKeys`' options. */
export const resolveSelection = (options: SelectionOptions | undefined, tracker: UsageTracker): Selection => {
    const selection: Selection = {
        tracker,
        deployedWeights: undefined,
        strategyOf: (service) => options?.strategies?.[service] ?? options?.strategy ?? 'round-robin',
        weightOf: (name, catalogWeights) => {
            const option = options?.weights?.[name]
            if (usable(option)) return { weight: option, from: 'option' }
            const deployed = selection.deployedWeights?.[name]
            if (usable(deployed)) return { weight: deployed, from: 'deployment' }
            const catalog = catalogWeights?.[name]
            if (usable(catalog)) return { weight: catalog, from: 'catalog' }
            return { weight: 1, from: 'default' }
        },
    }
    return selection
}

/**
 * Gives `pool` the selector of its service's strategy, over the members'
 * usage (kept across snapshots). Called for each pool of a new snapshot.
 */
export const attachSelector = (pool: Pool, service: string, selection: Selection, catalogWeights: Readonly<Record<string, number>> | undefined, coolUntil: (choice: KeyChoice) => number): void => {
    const usage = pool.members.map((m) => {
        const u = selection.tracker.member(m.name, fingerprintOf(m.value))
        const { weight, from } = selection.weightOf(m.name, catalogWeights)
        u.weight = weight
        u.weightFrom = from
        const until = coolUntil(m)
        if (until > 0) u.coolDown(until)
        return u
    })
    const strategy = selection.strategyOf(service)
    pool.selector = strategy === 'least-used' ? new LeastUsed(pool.members, usage)
        : strategy === 'headroom' ? new Headroom(pool.members, usage)
            : new RoundRobin(pool.members, usage)
}
