/**
 * Key pools (issue 9): when `OPENAI_API_KEY_2…` exist beside `OPENAI_API_KEY`,
 * the service name (`openai`) spreads use across them round robin, and a key
 * reported as failing sits out a cool-down. With `preferNewest` the highest
 * index available is served instead (overlap rotation). Selection allocates nothing.
 */

/** One key as handed out by `pick`: its canonical name and value. Preallocated per snapshot. */
export interface KeyChoice {
    readonly name: string
    readonly value: string
}

/** A selection strategy attached to a pool (src/loader/strategy.ts); replaces the plain round robin. */
export interface Selector {
    next(): KeyChoice
}

/** Round-robin selection over the members of one service's pool. */
export class Pool {
    readonly members: readonly KeyChoice[]
    /** Set by the store when selection is configured (issue 18): `next()` defers to it. */
    selector: Selector | undefined
    readonly #newest: boolean
    #cursor = 0
    readonly #coolUntil: Float64Array
    #cooling = 0

    /**
     * @param members - in pool order (base name first, then `_2`, `_3`, …).
     * @param coolUntil - per member, the epoch ms until which it sits out (0: available).
     * @param preferNewest - serve the highest-index member not cooling down instead of rotating (issue 17:
     *   during an overlap rotation the new key is the highest index, the old one stays as the fallback).
     */
    constructor(members: readonly KeyChoice[], coolUntil: (choice: KeyChoice) => number, preferNewest = false) {
        this.members = members
        this.#newest = preferNewest
        this.#coolUntil = new Float64Array(members.length)
        members.forEach((m, i) => {
            const until = coolUntil(m)
            this.#coolUntil[i] = until
            if (until > 0) this.#cooling++
        })
    }

    /**
     * The next member in turn, skipping members in cool-down. When every member
     * is cooling, the one whose cool-down ends first is returned: a possibly
     * rate-limited key is more useful to the caller than no key.
     */
    next(): KeyChoice {
        if (this.selector !== undefined) return this.selector.next()
        const n = this.members.length
        if (this.#newest) return this.#newestAvailable()
        if (this.#cooling === 0) {
            const choice = this.members[this.#cursor] as KeyChoice
            this.#cursor = this.#cursor + 1 === n ? 0 : this.#cursor + 1
            return choice
        }
        const now = Date.now()
        let best = 0
        let bestUntil = Infinity
        for (let k = 0; k < n; k++) {
            const i = (this.#cursor + k) % n
            const until = this.#coolUntil[i] as number
            if (until !== 0 && until <= now) {
                this.#coolUntil[i] = 0
                this.#cooling--
            }
            if (this.#coolUntil[i] === 0) {
                this.#cursor = (i + 1) % n
                return this.members[i] as KeyChoice
            }
            if (until < bestUntil) { best = i; bestUntil = until }
        }
        return this.members[best] as KeyChoice
    }

    #newestAvailable(): KeyChoice {
        const n = this.members.length
        if (this.#cooling === 0) return this.members[n - 1] as KeyChoice
        const now = Date.now()
        let best = n - 1
        let bestUntil = Infinity
        for (let i = n - 1; i >= 0; i--) {
            const until = this.#coolUntil[i] as number
            if (until !== 0 && until <= now) {
                this.#coolUntil[i] = 0
                this.#cooling--
            }
            if (this.#coolUntil[i] === 0) return this.members[i] as KeyChoice
            if (until < bestUntil) { best = i; bestUntil = until }
        }
        return this.members[best] as KeyChoice
    }

    /** Puts the member called `name` into cool-down until `until` (epoch ms); false when it is not a member. */
    coolDown(name: string, until: number): boolean {
        const i = this.members.findIndex((m) => m.name === name)
        if (i < 0) return false
        if (this.#coolUntil[i] === 0) this.#cooling++
        this.#coolUntil[i] = until
        return true
    }
}
