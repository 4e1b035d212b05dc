import { describe, expect, it } from 'vitest'
import { builtinCatalog, parseCatalog } from '../../src/catalog/index.js'
import { checkEnvironment, probeKeys, type ProbeProgress } from '../../src/probe/index.js'
import { json, sampleKey, useFakeServers } from './fake-provider.js'

const serve = useFakeServers()

/** n OpenAI pool keys: OPENAI_API_KEY, OPENAI_API_KEY_2, … */
const pool = (n: number): Map<string, string> =>
    new Map(Array.from({ length: n }, (_, i) => [i === 0 ? 'OPENAI_API_KEY' : `OPENAI_API_KEY_${i + 1}`, sampleKey('openai', String.fromCharCode(65 + i))]))

describe('probeKeys batches', () => {
    it('never has more requests in flight than the concurrency limit, and uses it', async () => {
        const server = await serve((_req, res) => { setTimeout(() => json(res, 200, {}), 40) })
        const results = await probeKeys(pool(12), builtinCatalog, { concurrency: 3, baseUrls: { openai: server.url } })
        expect(results.every((r) => r.status === 'valid')).toBe(true)
        expect(server.seen).toHaveLength(12)
        expect(server.maxInFlight()).toBe(3)
    })

    it('concurrency 1 probes one key at a time', async () => {
        const server = await serve((_req, res) => { setTimeout(() => json(res, 200, {}), 10) })
        await probeKeys(pool(4), builtinCatalog, { concurrency: 1, baseUrls: { OPENAI_API_KEY: server.url } })
        expect(server.maxInFlight()).toBe(1)
    })

    it('stops at the total deadline: in-flight and unstarted keys are unknown', async () => {
        const server = await serve((_req, res) => { setTimeout(() => json(res, 200, {}), 60_000) })
        const results = await probeKeys(pool(4), builtinCatalog, { concurrency: 2, deadlineMs: 150, timeoutMs: 60_000, baseUrls: { openai: server.url } })
        expect(results.map((r) => r.status)).toEqual(['unknown', 'unknown', 'unknown', 'unknown'])
        expect(results[0]?.detail).toBe('stopped at the total deadline')
        expect(results[3]?.detail).toBe('not probed: the total deadline of 150 ms was reached')
        expect(server.seen).toHaveLength(2)
    })

    it('the deadline also cuts a retry backoff short', async () => {
        const server = await serve((_req, res) => json(res, 503, {}, { 'retry-after': '30' }))
        // Without the deadline this would wait 30 s and outlive the test's timeout.
        const [r] = await probeKeys(pool(1), builtinCatalog, { deadlineMs: 200, maxRetryAfterMs: 30_000, baseUrls: { openai: server.url } })
        expect(r?.status).toBe('unknown')
        expect(r?.detail).toContain('total deadline reached before another attempt')
        expect(server.seen).toHaveLength(1)
    })

    it('keeps input order and reports progress once per key', async () => {
        const server = await serve((req, res) => {
            const key = (req.headers.authorization ?? '').slice(7)
            setTimeout(() => json(res, key.includes('A') ? 401 : 200, {}), key.includes('A') ? 60 : 5)
        })
        const progress: ProbeProgress[] = []
        const values = pool(3)
        const results = await probeKeys(values, builtinCatalog, { baseUrls: { openai: server.url }, onProgress: (p) => progress.push(p) })
        expect(results.map((r) => r.name)).toEqual([...values.keys()])
        expect(results.map((r) => r.status)).toEqual(['invalid', 'valid', 'valid'])
        expect(progress.map((p) => p.done)).toEqual([1, 2, 3])
        expect(progress.every((p) => p.total === 3)).toBe(true)
        expect(progress.at(-1)?.result.name).toBe('OPENAI_API_KEY')
    })

    it('does not send placeholders, malformed values, unknown names or custom secrets', async () => {
        const server = await serve((_req, res) => json(res, 200, {}))
        const catalog = parseCatalog(`version: 1
environments: [dev]
providers:
  openai: { env: OPENAI_API_KEY, format: '^sk-[A-Za-z0-9_-]{20,}$', probe: { base_url: https://api.openai.com, path: /v1/models, auth: bearer } }
custom:
  AGENT_GATEWAY_TOKEN: { service: gateway }
`, 'keyfleet.yaml').catalog!
        const values = new Map([
            ['OPENAI_API_KEY', 'changeme'],
            ['OPENAI_API_KEY_2', sampleKey('gemini')],
            ['SOMETHING_ELSE', 'whatever-value-1234567890'],
            ['AGENT_GATEWAY_TOKEN', 'gw_abcdefghijklmnopqrstuvwxyz'],
            ['OPENAI_API_KEY_3', sampleKey('openai')],
        ])
        const results = await probeKeys(values, catalog, { baseUrls: { openai: server.url } })
        expect(results.map((r) => [r.name, r.status])).toEqual([
            ['OPENAI_API_KEY', 'skipped'], ['OPENAI_API_KEY_2', 'skipped'], ['SOMETHING_ELSE', 'skipped'],
            ['AGENT_GATEWAY_TOKEN', 'skipped'], ['OPENAI_API_KEY_3', 'valid'],
        ])
        expect(results[1]?.detail).toContain("another provider's key")
        expect(server.seen).toHaveLength(1)
        const forced = await probeKeys(new Map([['OPENAI_API_KEY', sampleKey('gemini')]]), catalog, { probeMalformed: true, baseUrls: { openai: server.url } })
        expect(forced[0]?.status).toBe('valid')
    })

    it('rejects a base-URL override for no provider, or an insecure one, before sending anything', async () => {
        const server = await serve((_req, res) => json(res, 200, {}))
        await expect(probeKeys(pool(1), builtinCatalog, { baseUrls: { opnai: server.url } })).rejects.toMatchObject({ code: 'PROBE_UNKNOWN_PROVIDER' })
        await expect(probeKeys(pool(1), builtinCatalog, { baseUrls: { openai: 'http://10.0.0.1:8080' } })).rejects.toMatchObject({ code: 'PROBE_BASE_URL_INVALID' })
        await expect(probeKeys(pool(1), builtinCatalog, { concurrency: 0 })).rejects.toMatchObject({ code: 'PROBE_OPTION_INVALID' })
        expect(server.seen).toHaveLength(0)
    })

    it('an aborted signal cancels the batch', async () => {
        const server = await serve((_req, res) => { setTimeout(() => json(res, 200, {}), 60_000) })
        const controller = new AbortController()
        setTimeout(() => controller.abort(), 50)
        const results = await probeKeys(pool(2), builtinCatalog, { signal: controller.signal, baseUrls: { openai: server.url } })
        expect(results.map((r) => r.detail)).toEqual(['cancelled', 'cancelled'])
    })

    it('checkEnvironment probes every provider of an environment with an injected fetch', async () => {
        const calls: string[] = []
        const values = new Map(['claude', 'openai', 'gemini', 'fireworks', 'deepinfra'].map((s) => [
            builtinCatalog.secrets.find((x) => x.service === s)?.name ?? s, sampleKey(s),
        ]))
        const results = await checkEnvironment({
            env: 'prod', values, catalog: builtinCatalog, retries: 0,
            fetch: async (url) => { calls.push(url); return new Response('{}', { status: 200 }) },
        })
        expect(results.every((r) => r.status === 'valid')).toBe(true)
        expect(calls.sort()).toEqual([
            'https://api.anthropic.com/v1/models', 'https://api.deepinfra.com/v1/openai/models', 'https://api.fireworks.ai/inference/v1/models',
            'https://api.openai.com/v1/models', 'https://generativelanguage.googleapis.com/v1beta/models',
        ])
    })
})
