/**
 * The lookup structure behind `get()` (issue 7: get() at least 10x faster than
 * process.env). Timing is measured by bench/loader.ts, never here; this checks
 * the shape that makes the hot path one monomorphic Map read: every name,
 * alias, spelling and single-key service maps straight to a string, only
 * services with a pool go through a Pool, and both agree with `lookup`
 * (what `pick`, `hint` and `reportFailure` use).
 */
import { describe, expect, it } from 'vitest'
import { builtinCatalog } from '../../src/catalog/builtin.js'
import { indexCatalog } from '../../src/catalog/resolve.js'
import { Pool } from '../../src/loader/pool.js'
import { buildSnapshot, valueIn } from '../../src/loader/snapshot.js'

const index = indexCatalog(builtinCatalog)
const O1 = 'sk-proj-pool-member-one-aaaaaaaaaaaaaaaa'
const O2 = 'sk-proj-pool-member-two-bbbbbbbbbbbbbbbb'
const CLAUDE = 'sk-ant-api03-' + 'c'.repeat(40)
const GEMINI = 'AIza' + 'g'.repeat(35)

const snapshot = () => buildSnapshot(
    new Map([['OPENAI_API_KEY', O1], ['OPENAI_API_KEY_2', O2], ['CLAUDE_API_KEY', CLAUDE], ['CUSTOM_TOKEN', 'custom-value']]),
    { GEMINI_API_KEY: GEMINI }, index, 1,
)

describe('snapshot lookup for get()', () => {
    it('maps every name, alias, spelling and single-key service straight to its value string', () => {
        const s = snapshot()
        expect(s.hot.get('claude')).toBe(CLAUDE)               // service with one key
        expect(s.hot.get('ANTHROPIC_API_KEY')).toBe(CLAUDE)    // canonical name of an alias spelling
        expect(s.hot.get('CLAUDE_API_KEY')).toBe(CLAUDE)       // the source's own spelling
        expect(s.hot.get('gemini')).toBe(GEMINI)               // from the environment
        expect(s.hot.get('OPENAI_API_KEY_2')).toBe(O2)         // a pool member by its exact name
        expect(s.hot.get('CUSTOM_TOKEN')).toBe('custom-value')
        expect([...s.hot.values()].filter((v) => typeof v !== 'string')).toEqual([s.pools.get('openai')])
    })

    it('maps only services with a pool of two or more keys to their pool', () => {
        const s = snapshot()
        expect([...s.pools.keys()]).toEqual(['openai'])
        expect(s.hot.get('openai')).toBe(s.pools.get('openai'))
        expect([valueIn(s, 'openai'), valueIn(s, 'openai'), valueIn(s, 'openai')]).toEqual([O1, O2, O1])
        expect(valueIn(s, 'nope')).toBeUndefined()
    })

    it('agrees with lookup (pick, hint, reportFailure) on every accepted string', () => {
        const s = snapshot()
        expect(new Set(s.hot.keys())).toEqual(new Set(s.lookup.keys()))
        for (const [name, entry] of s.lookup) {
            if (entry instanceof Pool) expect(s.hot.get(name)).toBe(entry)
            else expect(s.hot.get(name)).toBe(entry.value)
        }
    })

    it('after a rotation removed the bare member, the bare name and its aliases serve what is left of the pool', () => {
        const O3 = 'sk-proj-pool-member-three-cccccccccccccc'
        const one = buildSnapshot(new Map([['OPENAI_API_KEY_2', O2]]), {}, index, 1)
        expect(valueIn(one, 'OPENAI_API_KEY')).toBe(O2)
        expect(valueIn(one, 'openai')).toBe(O2)
        const two = buildSnapshot(new Map([['OPENAI_API_KEY_2', O2], ['OPENAI_API_KEY_3', O3]]), {}, index, 1)
        expect(two.pools.get('OPENAI_API_KEY')).toBe(two.pools.get('openai'))
        expect(new Set([valueIn(two, 'OPENAI_API_KEY'), valueIn(two, 'OPENAI_API_KEY')])).toEqual(new Set([O2, O3]))
        // A bare member present is still exactly that key.
        expect(valueIn(snapshot(), 'OPENAI_API_KEY')).toBe(O1)
    })
})
