/**
 * Issue 13.6: the catalog (which a pull request can change) cannot send a key
 * anywhere. Built-in providers' probe origins are fixed in code; any other
 * origin needs the operator's allow-list. A real loopback server counts
 * what arrives: a refused origin receives nothing.
 */
import { describe, expect, it } from 'vitest'
import { builtinSecrets, parseCatalog } from '../../src/catalog/index.js'
import { BUILTIN_PROBE_ORIGINS, catalogOriginProblem, parseAllowedOrigins, probeKeys } from '../../src/probe/index.js'
import { json, sampleKey, useFakeServers } from './fake-provider.js'

const serve = useFakeServers()
const catalogAt = (url: string, provider = 'openai', env = 'OPENAI_API_KEY') => parseCatalog(`version: 1
environments: [dev]
providers:
  ${provider}: { env: ${env}, format: '^sk-[A-Za-z0-9_-]{20,}$', probe: { base_url: ${url}, path: /v1/models, auth: bearer } }
`, 'keyfleet.yaml').catalog!

describe('probe origins', () => {
    it('a built-in provider moved to another host by the catalog is refused before anything is sent', async () => {
        const server = await serve((_req, res) => json(res, 200, {}))
        const values = new Map([['OPENAI_API_KEY', sampleKey('openai')]])
        await expect(probeKeys(values, catalogAt(server.url))).rejects.toMatchObject({ code: 'PROBE_ORIGIN_NOT_ALLOWED', message: expect.stringContaining('built-in provider openai is moved from https://api.openai.com') })
        expect(server.seen).toHaveLength(0)
        const origin = new URL(server.url).origin
        const results = await probeKeys(values, catalogAt(server.url), { allowedOrigins: parseAllowedOrigins([`${origin}/`]) })
        expect(results.map((r) => r.status)).toEqual(['valid'])
        expect(server.seen).toHaveLength(1)
    })

    it('a custom provider needs its origin on the allow-list; an operator --base-url needs none', async () => {
        const server = await serve((_req, res) => json(res, 200, {}))
        const catalog = catalogAt(server.url, 'acme', 'ACME_API_KEY')
        const values = new Map([['ACME_API_KEY', sampleKey('openai')]])
        await expect(probeKeys(values, catalog, { allowedOrigins: ['https://elsewhere.example'] })).rejects.toMatchObject({ code: 'PROBE_ORIGIN_NOT_ALLOWED' })
        expect(server.seen).toHaveLength(0)
        expect((await probeKeys(values, catalog, { baseUrls: { acme: server.url } })).map((r) => r.status)).toEqual(['valid'])
        expect(server.seen).toHaveLength(1)
    })

    it('the built-in origins are the five providers\' hosts; allow-list entries must be URLs', () => {
        expect([...BUILTIN_PROBE_ORIGINS]).toEqual(builtinSecrets.map((s) => [s.service, new URL(s.probe?.baseUrl ?? '').origin]))
        expect(catalogOriginProblem('openai', 'https://api.openai.com/v1', 'https://api.openai.com', [])).toBeUndefined()
        expect(catalogOriginProblem('openai', 'https://api.openai.com.evil.example', 'https://api.openai.com', [])).toContain('moved')
        expect(() => parseAllowedOrigins(['gateway.example.com'])).toThrow(expect.objectContaining({ code: 'PROBE_ORIGIN_LIST_INVALID' }))
        expect(parseAllowedOrigins([' https://gw.example.com/x ', ''])).toEqual(['https://gw.example.com'])
    })
})
