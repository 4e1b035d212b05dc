/**
 * Pools without their bare member. After `keyfleet rotate-key` removed `OPENAI_API_KEY`, only
 * `OPENAI_API_KEY_2` is left; code and scripts that read the bare name keep working because the
 * bare name stands for the pool's newest member (the highest index, the one `rotate-key` added last).
 * The loader does the same for `get('OPENAI_API_KEY')` with the whole pool (src/loader/snapshot.ts).
 */
import { isPlaceholder } from './placeholder.js'
import type { CatalogIndex } from './resolve.js'

/**
 * `values` plus, for each catalog key whose pool has members but no bare member, the bare name
 * with the newest usable member's value. Names already present are never replaced.
 * @returns a new map, in `values`' order with the added names after it.
 */
export const withBareNames = (values: ReadonlyMap<string, string>, index: CatalogIndex): Map<string, string> => {
    const out = new Map(values)
    const newest = new Map<string, { poolIndex: number; value: string }>()
    for (const [name, value] of values) {
        const r = index.resolve(name)
        if (r === undefined || r.poolIndex === 1 || r.name !== name || isPlaceholder(value)) continue
        const best = newest.get(r.spec.name)
        if (best === undefined || r.poolIndex > best.poolIndex) newest.set(r.spec.name, { poolIndex: r.poolIndex, value })
    }
    for (const [bare, { value }] of newest) if (!out.has(bare)) out.set(bare, value)
    return out
}
