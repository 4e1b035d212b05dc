/**
 * An immutable key snapshot and everything precomputed for it: the hybrid
 * precedence (a real environment variable beats the mounted source unless it
 * is empty or a placeholder), aliases, service names and pools are resolved
 * once here, so that a lookup is a single Map read.
 *
 * `get()` is the hot path (issue 7: at least 10x faster than `process.env`),
 * so it reads `hot`: one Map read for every lookup string, whose value is
 * the key's value itself (every name, alias, spelling and single-key
 * service) or, for a service with a pool of two or more keys, the pool. A
 * `typeof` tells them apart; nothing allocates. (Issue 18: a second map for
 * the pools cost a Map miss, about 8 ns, on every pooled `get`.)
 */
import { isPlaceholder } from '../catalog/placeholder.js'
import type { CatalogIndex } from '../catalog/resolve.js'
import { Pool, type KeyChoice } from './pool.js'

/** Where an effective value came from. */
export type Origin = 'env' | 'source'

/** One generation of keys. Never mutated after construction: the store swaps whole snapshots. */
export interface Snapshot {
    /** Increases by one with every change of the effective key set. */
    readonly generation: number
    /** Canonical name → effective value, names sorted. */
    readonly values: ReadonlyMap<string, string>
    /** Canonical name → where its value came from. */
    readonly origins: ReadonlyMap<string, Origin>
    /** Every accepted lookup string (canonical name, alias, source spelling, service) → its key or pool. */
    readonly lookup: ReadonlyMap<string, KeyChoice | Pool>
    /** The hot path of `get`: every lookup string → its key's value, or its pool (services with two or more keys). */
    readonly hot: ReadonlyMap<string, string | Pool>
    /** The pools of `hot`: services with a pool of two or more keys → the pool. */
    readonly pools: ReadonlyMap<string, Pool>
}

/** Environment variables as `process.env` holds them. */
export type EnvLike = Readonly<Record<string, string | undefined>>

const usable = (value: string | undefined): value is string => value !== undefined && !isPlaceholder(value)

/**
 * Builds a snapshot from the source's entries and the environment.
 * @param entries - names as the source spells them (aliases allowed) → values.
 * @param coolUntil - cool-down end (epoch ms, 0 when none) for a pool member, carried across snapshots.
 * @param preferNewest - pools serve their highest-index available member (`openKeys({ preferNewest })`).
 */
export const buildSnapshot = (
    entries: ReadonlyMap<string, string>, env: EnvLike, index: CatalogIndex, generation: number,
    coolUntil: (choice: KeyChoice) => number = () => 0, preferNewest = false,
): Snapshot => {
    const services = new Set(index.catalog.secrets.map((s) => s.service))
    const canonicalOf = (name: string): string => {
        const r = services.has(name) ? undefined : index.resolve(name)
        return r ? r.name : name
    }
    // Source values by canonical name; an exact spelling beats an alias spelling.
    const values = new Map<string, string>()
    const origins = new Map<string, Origin>()
    const spellings = new Map<string, string>()
    const exact = new Set<string>()
    for (const [name, value] of entries) {
        if (!usable(value)) continue
        const canonical = canonicalOf(name)
        if (values.has(canonical) && (exact.has(canonical) || name !== canonical)) continue
        values.set(canonical, value)
        origins.set(canonical, 'source')
        if (name === canonical) exact.add(canonical)
        if (name !== canonical) spellings.set(name, canonical)
    }
    // The environment overrides: catalog names, aliases and pool members, plus any source name.
    const envExact = new Set<string>()
    for (const name of Object.keys(env)) {
        const value = env[name]
        if (!usable(value)) continue
        const known = !services.has(name) && index.resolve(name) !== undefined
        if (!known && !values.has(name)) continue
        const canonical = canonicalOf(name)
        if (origins.get(canonical) === 'env' && (envExact.has(canonical) || name !== canonical)) continue
        values.set(canonical, value)
        origins.set(canonical, 'env')
        if (name === canonical) envExact.add(canonical)
    }
    const sorted = new Map([...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    const sortedOrigins = new Map([...sorted.keys()].map((n) => [n, origins.get(n) as Origin]))

    const lookup = new Map<string, KeyChoice | Pool>()
    const pools = new Map<string, KeyChoice[]>()
    // service -> the names its bare member answers to (canonical name and aliases)
    const bareNames = new Map<string, readonly string[]>()
    for (const [name, value] of sorted) {
        const choice: KeyChoice = Object.freeze({ name, value })
        lookup.set(name, choice)
        const r = index.resolve(name)
        if (!r) continue
        const suffix = r.poolIndex === 1 ? '' : `_${r.poolIndex}`
        for (const alias of r.spec.aliases) if (!lookup.has(alias + suffix)) lookup.set(alias + suffix, choice)
        const members = pools.get(r.spec.service) ?? []
        members[r.poolIndex - 1] = choice
        pools.set(r.spec.service, members)
        bareNames.set(r.spec.service, [r.spec.name, ...r.spec.aliases])
    }
    for (const [spelling, canonical] of spellings) {
        const choice = lookup.get(canonical)
        if (choice && !lookup.has(spelling)) lookup.set(spelling, choice)
    }
    for (const [service, sparse] of pools) {
        const members = sparse.filter((m): m is KeyChoice => m !== undefined)
        const entry = members.length === 1 ? members[0] as KeyChoice : new Pool(members, coolUntil, preferNewest)
        lookup.set(service, entry)
        // No bare member (rotate-key removed OPENAI_API_KEY, OPENAI_API_KEY_2 is left): the bare name and its
        // aliases serve the pool, so code reading get('OPENAI_API_KEY') keeps working through a rotation.
        if (sparse[0] === undefined) for (const bare of bareNames.get(service) ?? []) if (!lookup.has(bare)) lookup.set(bare, entry)
    }
    const hot = new Map<string, string | Pool>()
    const pooled = new Map<string, Pool>()
    for (const [name, entry] of lookup) {
        if (entry instanceof Pool) pooled.set(name, entry)
        hot.set(name, entry instanceof Pool ? entry : entry.value)
    }
    return { generation, values: sorted, origins: sortedOrigins, lookup, hot, pools: pooled }
}

/**
 * The value `name` resolves to in `snapshot`: one Map read, and for a pool
 * service the pool's next member. Allocates nothing.
 */
export const valueIn = (snapshot: Snapshot, name: string): string | undefined => {
    const entry = snapshot.hot.get(name)
    return entry === undefined || typeof entry === 'string' ? entry : entry.next().value
}

/** Canonical names whose effective value differs between two snapshots (added, changed or removed), sorted. */
export const changedNames = (before: Snapshot, after: Snapshot): string[] => {
    const names = new Set<string>()
    for (const [name, value] of after.values) if (before.values.get(name) !== value) names.add(name)
    for (const name of before.values.keys()) if (!after.values.has(name)) names.add(name)
    return [...names].sort()
}
