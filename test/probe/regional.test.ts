/**
 * Issue 18 item 4: a regional variant's live probe follows the region's base URL only where the
 * operator trusts that origin. deployment.yaml is PR-changeable; a key never goes to an address a
 * pull request set. Real loopback servers count what arrives; the built-in origin is seen through
 * an injected fetch (no request leaves the machine).
 */
import { describe, expect, it } from 'vitest'
import { builtinCatalog } from '../../src/catalog/builtin.js'
import { parseAllowedOrigins, probeKeys, type FetchLike } from '../../src/probe/index.js'
import { fakeProvider, sampleKey, useFakeServers } from './fake-provider.js'

const serve = useFakeServers()
const KEY = sampleKey('openai', 'E')

/** A fetch standing in for the provider's built-in origin: records URLs, answers 200. */
const recorder = (): { fetch: FetchLike; urls: string[] } => {
    const urls: string[] = []
    return { urls, fetch: async (input) => { urls.push(input); return new Response('{"data":[]}', { status: 200, headers: { 'content-type': 'application/json' } }) } }
}

describe('live probe of a regional variant', () => {
    it('an untrusted regional endpoint receives nothing: the key goes to the built-in origin and the result says why', async () => {
        const pr = await serve(fakeProvider('openai', [KEY]))
        const built = recorder()
        const [result] = await probeKeys(new Map([['OPENAI_API_KEY__EU', KEY]]), builtinCatalog, {
            regionBaseUrls: { eu: { openai: `${pr.url}/v1` } }, fetch: built.fetch, retries: 0,
        })
        expect(pr.seen).toHaveLength(0)
        expect(built.urls).toEqual(['https://api.openai.com/v1/models'])
        expect(result?.status).toBe('valid')
        expect(result?.detail).toContain(`region eu's endpoint ${pr.url} was not probed`)
        expect(result?.detail).toContain('allowed origins')
        expect(JSON.stringify(result)).not.toContain(KEY)
    })

    it('an endpoint on the operator\'s allow-list is probed, at the catalog\'s path', async () => {
        const eu = await serve(fakeProvider('openai', [KEY]))
        const [result] = await probeKeys(new Map([['OPENAI_API_KEY__EU', KEY]]), builtinCatalog, {
            regionBaseUrls: { eu: { openai: `${eu.url}/v1` } }, allowedOrigins: parseAllowedOrigins([eu.url]), retries: 0,
        })
        expect(eu.seen.map((s) => s.url)).toEqual(['/v1/models'])
        expect(eu.seen[0]?.headers.authorization).toBe(`Bearer ${KEY}`)
        expect(result).toMatchObject({ status: 'valid', detail: expect.stringContaining(`(region eu endpoint ${eu.url})`) })
    })

    it('the provider\'s own regional origin needs no allow-list; global keys and other regions are untouched', async () => {
        const built = recorder()
        const values = new Map([['OPENAI_API_KEY__EU', KEY], ['OPENAI_API_KEY', KEY], ['OPENAI_API_KEY__US', KEY]])
        const results = await probeKeys(values, builtinCatalog, {
            regionBaseUrls: { eu: { openai: 'https://eu.api.openai.com/v1' }, us: {} }, fetch: built.fetch, retries: 0, concurrency: 1,
        })
        expect(built.urls).toEqual(['https://eu.api.openai.com/v1/models', 'https://api.openai.com/v1/models', 'https://api.openai.com/v1/models'])
        expect(results.map((r) => r.detail.includes('region'))).toEqual([true, false, false])
    })

    it('an operator --base-url still wins over the region', async () => {
        const gw = await serve(fakeProvider('openai', [KEY]))
        const pr = await serve(fakeProvider('openai', [KEY]))
        await probeKeys(new Map([['OPENAI_API_KEY__EU', KEY]]), builtinCatalog, {
            baseUrls: { openai: gw.url }, regionBaseUrls: { eu: { openai: pr.url } }, allowedOrigins: [pr.url], retries: 0,
        })
        expect(gw.seen).toHaveLength(1)
        expect(pr.seen).toHaveLength(0)
    })
})
