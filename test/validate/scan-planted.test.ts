/**
 * Planted keys (issue 13.8): the seeded generator of planted-keys.ts puts
 * keys of every LLM provider family, DeepInfra keys, generic tokens and age
 * identities into eight file types the way people write them; the scan must
 * find every one, exactly once. scan-gitleaks.test.ts runs gitleaks 8.30 on
 * the same files side by side. The seed is printed; KEYFLEET_SEED reruns one.
 */
import { describe, expect, test } from 'vitest'
import { builtinCatalog } from '../../src/catalog/index.js'
import { createScanner } from '../../src/validate/index.js'
import { plantKeys, plantSeed } from './planted-keys.js'

const seed = plantSeed()
console.log(`scan-planted seed ${seed} (KEYFLEET_SEED=${seed} to rerun)`)

describe('planted keys', () => {
    const scanner = createScanner(builtinCatalog)
    test('every planted key is found in every file type (seeded)', () => {
        const planted = plantKeys(seed)
        const missed = planted
            .map((p) => ({ p, found: scanner.scanText(p.text, `planted${p.ext}`) }))
            .filter(({ found }) => found.length !== 1)
            .map(({ p, found }) => `${p.family} ${p.name} in ${p.ext}: ${found.length} findings`)
        expect(planted).toHaveLength(112)
        expect(missed, `seed ${seed}`).toEqual([])
    })
})
