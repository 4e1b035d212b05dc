/**
 * Usage-based selection (issue 18), driven by a fake provider on loopback
 * that answers with each provider's documented rate-limit formats. Asserts
 * what an agent relies on: which key each request went out with (as the
 * server saw it), how many 429s it met, and that exhausted or revoked keys
 * sit out. No timing is asserted; quota windows are long enough not to roll
 * over during a test, except where the roll-over itself is awaited.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { parseCatalog } from '../../src/catalog/index.js'
import { openKeys, type KeyStore, type StrategyName } from '../../src/loader/index.js'
import { startFakeProvider, type Dialect, type FakeProvider } from './fake-provider.js'

const K = (service: string, i: number): string => `${service}-key-${i}-${'q'.repeat(24)}`
const SERVICE: Record<Dialect, { service: string; env: string }> = {
    openai: { service: 'openai', env: 'OPENAI_API_KEY' },
    anthropic: { service: 'claude', env: 'ANTHROPIC_API_KEY' },
    gemini: { service: 'gemini', env: 'GEMINI_API_KEY' },
    'retry-after': { service: 'fireworks', env: 'FIREWORKS_API_KEY' },
}

const open: { store?: KeyStore; fake?: FakeProvider }[] = []
afterEach(async () => {
    for (const o of open.splice(0)) { await o.store?.close(); await o.fake?.close() }
})

/** A store with a 3-key pool of the dialect's service and a fake provider limiting each key. */
const setup = async (dialect: Dialect, limits: number[], strategy: StrategyName, extra: { revoked?: number[]; weights?: number[]; windowMs?: number } = {}) => {
    const { service, env } = SERVICE[dialect]
    const keys = limits.map((_, i) => K(service, i + 1))
    const fake = await startFakeProvider({
        dialect, windowMs: extra.windowMs ?? 600_000,
        limits: Object.fromEntries(keys.map((k, i) => [k, limits[i] as number])),
        revoked: (extra.revoked ?? []).map((i) => keys[i] as string),
    })
    const names = keys.map((_, i) => (i === 0 ? env : `${env}_${i + 1}`))
    const store = await openKeys({
        env: Object.fromEntries(keys.map((k, i) => [names[i] as string, k])), watch: false, persistent: false,
        selection: { strategy, ...(extra.weights ? { weights: Object.fromEntries(names.map((n, i) => [n, extra.weights?.[i] ?? 1])) } : {}) },
    })
    open.push({ store, fake })
    const run = async (n: number): Promise<number[]> => {
        const statuses: number[] = []
        for (let i = 0; i < n; i++) {
            const res = await store.fetch(service, fake.url, { method: 'POST', body: '{}' })
            await res.text()
            statuses.push(res.status)
        }
        return statuses
    }
    const served = (i: number) => fake.served.get(keys[i] as string) ?? { ok: 0, limited: 0 }
    return { store, fake, keys, names, service, run, served }
}

const limitedTotal = (fake: FakeProvider): number => [...fake.served.values()].reduce((n, c) => n + c.limited, 0)

describe('headroom', () => {
    for (const dialect of ['openai', 'anthropic'] as const) {
        it(`spends every key's whole quota without a single 429 (${dialect} headers)`, async () => {
            const s = await setup(dialect, [2, 5, 10], 'headroom')
            const statuses = await s.run(17)
            expect(statuses.every((c) => c === 200)).toBe(true)
            expect(limitedTotal(s.fake)).toBe(0)
            expect([0, 1, 2].map((i) => s.served(i).ok)).toEqual([2, 5, 10])
            // Seen from the outside: the last remaining quota of each member, names and numbers only.
            const members = s.store.stats().services.find((x) => x.service === s.service)?.members ?? []
            expect(members.map((m) => [m.name, m.remainingRequests])).toEqual([[s.names[0], 0], [s.names[1], 0], [s.names[2], 0]])
        })
    }

    it('waits for the first reset instead of sending a request bound to fail (maxWaitMs)', async () => {
        const s = await setup('openai', [1, 1, 1], 'headroom', { windowMs: 300 })
        const statuses: number[] = []
        for (let i = 0; i < 6; i++) {
            const res = await s.store.fetch(s.service, s.fake.url, {}, { maxWaitMs: 5_000 })
            statuses.push(res.status)
        }
        expect(statuses).toEqual([200, 200, 200, 200, 200, 200])
        expect(limitedTotal(s.fake)).toBe(0)
    })
})

describe('round-robin', () => {
    it('is blind to quotas: it meets 429s where headroom met none, and retries each once with another member', async () => {
        const s = await setup('openai', [2, 5, 10], 'round-robin')
        const statuses = await s.run(17)
        expect(limitedTotal(s.fake)).toBeGreaterThan(0)
        // Each 429 was retried with another member, which had quota left.
        expect(statuses.every((c) => c === 200)).toBe(true)
        // After its 429 the spent key sits out: it is not sent again within its window.
        expect(s.served(0)).toEqual({ ok: 2, limited: 1 })
    })

    it('spreads by weight (smooth weighted round robin)', async () => {
        const s = await setup('openai', [100, 100], 'round-robin', { weights: [1, 3] })
        await s.run(8)
        expect([s.served(0).ok, s.served(1).ok]).toEqual([2, 6])
    })
})

describe('weights from the catalog', () => {
    const catalogText = (weights: string): string => `version: 1
environments: [dev]
providers:
  openai:
    env: OPENAI_API_KEY
    probe: { base_url: https://api.openai.com, path: /v1/models, auth: bearer }
    weights: ${weights}
`
    it('are read per pool member and steer the pool', async () => {
        const { catalog } = parseCatalog(catalogText('{ OPENAI_API_KEY_2: 4 }'))
        if (!catalog) throw new Error('catalog did not parse')
        const store = await openKeys({ catalog, env: { OPENAI_API_KEY: K('openai', 1), OPENAI_API_KEY_2: K('openai', 2) }, watch: false, persistent: false })
        open.push({ store })
        const names = Array.from({ length: 10 }, () => store.pick('openai')?.name)
        expect(names.filter((n) => n === 'OPENAI_API_KEY_2')).toHaveLength(8)
        expect(store.stats().services[0]?.members.map((m) => m.weight)).toEqual([1, 4])
    })

    it('refuses a weight for a name outside the pool, or one that is not a positive number', () => {
        expect(parseCatalog(catalogText('{ ANTHROPIC_API_KEY: 2 }')).problems.map((p) => p.message)).toEqual([expect.stringContaining('not a pool member of OPENAI_API_KEY')])
        expect(parseCatalog(catalogText('{ OPENAI_API_KEY_2: 0 }')).problems.map((p) => p.message)).toEqual([expect.stringContaining('positive number')])
    })
})

describe('least-used', () => {
    it('evens out calls across members, counting picks made outside fetch too', async () => {
        const s = await setup('openai', [100, 100, 100], 'least-used')
        // Two direct picks of the service land on members 1 and 2; fetches then fill member 3 first.
        s.store.pick(s.service)
        s.store.pick(s.service)
        await s.run(7)
        const calls = s.store.stats().services.find((x) => x.service === s.service)?.members.map((m) => m.calls)
        expect(calls).toEqual([3, 3, 3])
        expect([0, 1, 2].map((i) => s.served(i).ok)).toEqual([2, 2, 3])
    })
})

describe('cool-downs from the provider', () => {
    for (const dialect of ['gemini', 'retry-after', 'anthropic'] as const) {
        it(`a 429 takes the key out for as long as the provider says (${dialect})`, async () => {
            const s = await setup(dialect, [1, 50], 'round-robin', { windowMs: 120_000 })
            await s.run(4)
            expect(s.served(0)).toEqual({ ok: 1, limited: 1 })
            const first = s.store.stats().services.find((x) => x.service === s.service)?.members[0]
            expect(first?.limited).toBe(1)
            // The provider said "about 120 s" (RetryInfo / Retry-After): the cool-down is that, not the 60 s default.
            expect(first?.coolingForMs).toBeGreaterThan(60_000)
            expect(first?.coolingForMs).toBeLessThanOrEqual(121_000)
            await s.run(5)
            expect(s.served(0)).toEqual({ ok: 1, limited: 1 })
        })
    }

    it('a revoked key (401) sits out until it is rotated; the request is retried with another member', async () => {
        const s = await setup('openai', [50, 50, 50], 'headroom', { revoked: [1] })
        const statuses = await s.run(9)
        expect(statuses.every((c) => c === 200)).toBe(true)
        expect(s.fake.requests.filter((r) => r.key === s.keys[1])).toHaveLength(1)
        const m = s.store.stats().services.find((x) => x.service === s.service)?.members[1]
        expect(m).toMatchObject({ name: s.names[1], rejected: 1, coolingUntilRotated: true })
    })
})
