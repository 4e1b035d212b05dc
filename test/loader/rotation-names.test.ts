/**
 * An agent that reads a key by its bare name (`get('OPENAI_API_KEY')`) keeps a key through a whole
 * `keyfleet rotate-key`: old alone → old + OPENAI_API_KEY_2 (step a) → OPENAI_API_KEY_2 alone (step b).
 * Driven through the kubelet-sequence volume the other loader tests use; no timing is asserted.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { builtinCatalog } from '../../src/catalog/builtin.js'
import { indexCatalog } from '../../src/catalog/resolve.js'
import { openKeys } from '../../src/loader/index.js'
import { KeySelection } from '../../src/loader/selection.js'
import { buildSnapshot } from '../../src/loader/snapshot.js'
import { KubeletVolume } from './kubelet.js'
import { cleanupTemp, nextEvent, tempDir } from './helpers.js'

afterAll(cleanupTemp)

const OLD = `sk-proj-old${'o'.repeat(40)}`
const NEW = `sk-proj-new${'n'.repeat(40)}`

describe('a bare-name reader through a rotation', () => {
    for (const strategy of ['round-robin', 'headroom'] as const) {
        it(`always has a key, and ends on the new one (${strategy})`, async () => {
            const volume = new KubeletVolume(tempDir('rotation-names', { tmpfs: true }))
            volume.write({ OPENAI_API_KEY: OLD })
            const keys = await openKeys({ path: volume.dir, env: {}, persistent: false, selection: { strategy } })
            try {
                expect(keys.get('OPENAI_API_KEY')).toBe(OLD)
                let changed = nextEvent(keys, 'change')
                volume.write({ OPENAI_API_KEY: OLD, OPENAI_API_KEY_2: NEW })
                await changed
                expect(keys.get('OPENAI_API_KEY')).toBe(OLD)          // an exact name present is exactly that key
                changed = nextEvent(keys, 'change')
                volume.write({ OPENAI_API_KEY_2: NEW })
                await changed
                expect(keys.get('OPENAI_API_KEY')).toBe(NEW)          // the bare name now serves the pool
                expect(keys.require('openai')).toBe(NEW)
                expect(keys.pick('OPENAI_API_KEY')?.name).toBe('OPENAI_API_KEY_2')
                // One selector per service, not one for the bare name as well.
                expect(keys.stats().services.map((s) => s.service)).not.toContain('OPENAI_API_KEY')
            } finally {
                await keys.close()
            }
        })
    }

    it('the pool listed under its bare name gets one selector, the service\'s own strategy', () => {
        const index = indexCatalog(builtinCatalog)
        const snapshot = buildSnapshot(new Map([['OPENAI_API_KEY_2', NEW], ['OPENAI_API_KEY_3', OLD]]), {}, index, 1)
        new KeySelection({ strategies: { openai: 'headroom' } }, index).attach(snapshot, () => 0)
        expect(snapshot.pools.get('OPENAI_API_KEY')).toBe(snapshot.pools.get('openai'))
        expect(snapshot.pools.get('openai')?.selector?.constructor.name).toBe('Headroom')
    })
})
