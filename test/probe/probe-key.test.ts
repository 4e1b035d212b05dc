import { describe, expect, it } from 'vitest'
import { probeKey } from '../../src/probe/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { fakeProvider, json, sampleKey, specOf, useFakeServers } from './fake-provider.js'

const serve = useFakeServers()

const fast = { retries: 2, backoffMs: 5, timeoutMs: 2000 }
const SERVICES = ['claude', 'openai', 'gemini', 'fireworks', 'deepinfra'] as const

describe('probeKey against each provider', () => {
    for (const service of SERVICES) {
        it(`${service}: a good key is valid, a bad one invalid, with the provider's exact auth header and never the key in the URL`, async () => {
            const good = sampleKey(service, 'G')
            const bad = sampleKey(service, 'B')
            const server = await serve(fakeProvider(service, [good]))
            const spec = specOf(service)
            const ok = await probeKey(spec, good, { ...fast, baseUrl: server.url })
            const no = await probeKey(spec, bad, { ...fast, baseUrl: server.url })
            expect(ok).toMatchObject({ name: spec.name, service, status: 'valid', httpStatus: 200 })
            expect(no.status).toBe('invalid')
            expect(no.httpStatus).toBe(service === 'gemini' ? 400 : 401)
            expect(server.seen).toHaveLength(2)
            for (const [i, key] of [good, bad].entries()) {
                const { url, headers, method } = server.seen[i]!
                expect(method).toBe('GET')
                expect(url).toBe(spec.probe?.path)
                expect(findLeaks(key, { url })).toEqual([])
                if (service === 'claude') {
                    expect(headers['x-api-key']).toBe(key)
                    expect(headers['anthropic-version']).toBe('2023-06-01')
                    expect(headers.authorization).toBeUndefined()
                } else if (service === 'gemini') {
                    expect(headers['x-goog-api-key']).toBe(key)
                    expect(headers.authorization).toBeUndefined()
                } else {
                    expect(headers.authorization).toBe(`Bearer ${key}`)
                    expect(headers['x-api-key']).toBeUndefined()
                }
            }
            // The fake echoes the key in its error message; no part of the result may carry it.
            expect(findLeaks(bad, { result: JSON.stringify(no) })).toEqual([])
            expect(no.hint).toMatch(new RegExp(`^${service}, \\d+ chars, …BBBB$`))
        })
    }
})

describe('classification over HTTP', () => {
    const spec = specOf('openai')
    const key = sampleKey('openai')

    it('429 is limited, reports Retry-After and is not retried', async () => {
        const server = await serve((_req, res) => json(res, 429, { error: { type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': '7' }))
        const r = await probeKey(spec, key, { ...fast, baseUrl: server.url })
        expect(r).toMatchObject({ status: 'limited', httpStatus: 429 })
        expect(r.detail).toContain('retry after 7 s')
        expect(server.seen).toHaveLength(1)
    })

    it('429 insufficient_quota and 402 are limited (out of credit)', async () => {
        const quota = await serve((_req, res) => json(res, 429, { error: { type: 'insufficient_quota', code: 'insufficient_quota' } }))
        const pay = await serve((_req, res) => json(res, 402, { detail: 'Payment Required' }))
        expect((await probeKey(spec, key, { ...fast, baseUrl: quota.url })).detail).toContain('out of quota or credit')
        expect((await probeKey(spec, key, { ...fast, baseUrl: pay.url })).status).toBe('limited')
    })

    it('403 is invalid', async () => {
        const server = await serve((_req, res) => json(res, 403, { error: { type: 'permission_error' } }))
        expect((await probeKey(specOf('claude'), sampleKey('claude'), { ...fast, baseUrl: server.url })).status).toBe('invalid')
    })

    it('5xx is retried with backoff and a later 200 wins', async () => {
        let n = 0
        const server = await serve((_req, res) => (n++ < 2 ? json(res, 503, { error: { type: 'api_error' } }) : json(res, 200, { data: [] })))
        const r = await probeKey(spec, key, { ...fast, baseUrl: server.url })
        expect(r.status).toBe('valid')
        expect(r.detail).toContain('3 attempts')
        expect(server.seen).toHaveLength(3)
    })

    it('persistent 5xx is unknown after exactly 1 + retries attempts', async () => {
        const server = await serve((_req, res) => json(res, 500, {}))
        const r = await probeKey(spec, key, { ...fast, retries: 1, baseUrl: server.url })
        expect(r).toMatchObject({ status: 'unknown', httpStatus: 500 })
        expect(server.seen).toHaveLength(2)
    })

    it('honours Retry-After on a 503, capped by maxRetryAfterMs', async () => {
        const arrivals: number[] = []
        let retryAfter = '1'
        const server = await serve((_req, res) => {
            arrivals.push(Date.now())
            return arrivals.length % 2 === 1 ? json(res, 503, {}, { 'retry-after': retryAfter }) : json(res, 200, {})
        })
        const waited = await probeKey(spec, key, { ...fast, baseUrl: server.url })
        expect(waited.status).toBe('valid')
        expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950)
        // A Retry-After of an hour is cut to the cap instead of stalling the deploy.
        retryAfter = '3600'
        const capped = await probeKey(spec, key, { ...fast, maxRetryAfterMs: 50, baseUrl: server.url })
        expect(capped.status).toBe('valid')
        expect(arrivals).toHaveLength(4)
    })

    it('a slow provider times out per request and is unknown after its retries', async () => {
        const server = await serve((_req, res) => { setTimeout(() => json(res, 200, {}), 2000) })
        const r = await probeKey(spec, key, { retries: 1, backoffMs: 5, timeoutMs: 100, baseUrl: server.url })
        expect(r.status).toBe('unknown')
        expect(r.detail).toBe('timed out after 100 ms (2 attempts)')
        expect(r.httpStatus).toBeUndefined()
        expect(server.seen).toHaveLength(2)
    })

    it('a connection reset is an unknown network error', async () => {
        const server = await serve((req) => { req.socket.destroy() })
        const r = await probeKey(spec, key, { ...fast, retries: 0, baseUrl: server.url })
        expect(r.status).toBe('unknown')
        expect(r.detail).toMatch(/^network error \(([A-Z_]+|connection failed)\)$/)
    })

    it('an unexpected 404 is unknown and not retried', async () => {
        const server = await serve((_req, res) => json(res, 404, {}))
        const r = await probeKey(spec, key, { ...fast, baseUrl: server.url })
        expect(r.status).toBe('unknown')
        expect(r.detail).toContain('check the base URL')
        expect(server.seen).toHaveLength(1)
    })
})

describe('redirects', () => {
    const spec = specOf('claude')
    const key = makeCanary('sk-ant-api03-CANARY')

    it('a redirect to another origin is unknown and the other host never receives the key', async () => {
        const other = await serve((_req, res) => json(res, 200, { data: [] }))
        const first = await serve((_req, res) => { res.writeHead(302, { location: `${other.url}/v1/models?stolen=1` }); res.end() })
        const r = await probeKey(spec, key, { ...fast, baseUrl: first.url })
        expect(r).toMatchObject({ status: 'unknown', httpStatus: 302 })
        expect(r.detail).toContain('another origin')
        expect(r.detail).toContain(other.url)
        expect(other.seen).toHaveLength(0)
        for (const seen of other.seen) expect(findLeaks(key, { headers: JSON.stringify(seen.headers), url: seen.url })).toEqual([])
        expect(first.seen).toHaveLength(1)
        expect(first.seen[0]?.headers['x-api-key']).toBe(key)
    })

    it('a redirect from http to https on the same host is another origin', async () => {
        const first = await serve((req, res) => { res.writeHead(301, { location: `https://${req.headers.host}/v1/models` }); res.end() })
        const r = await probeKey(spec, key, { ...fast, baseUrl: first.url })
        expect(r.status).toBe('unknown')
        expect(first.seen).toHaveLength(1)
    })

    it('a same-origin redirect is followed and the key re-sent there', async () => {
        const server = await serve((req, res) => {
            if (req.url === '/v1/models') { res.writeHead(307, { location: '/moved/v1/models' }); res.end(); return }
            json(res, req.headers['x-api-key'] === key ? 200 : 401, {})
        })
        const r = await probeKey(spec, key, { ...fast, baseUrl: server.url })
        expect(r).toMatchObject({ status: 'valid', httpStatus: 200 })
        expect(server.seen.map((s) => s.url)).toEqual(['/v1/models', '/moved/v1/models'])
    })

    it('a same-origin redirect loop stops after maxRedirects', async () => {
        const server = await serve((_req, res) => { res.writeHead(302, { location: '/v1/models' }); res.end() })
        const r = await probeKey(spec, key, { ...fast, maxRedirects: 2, baseUrl: server.url })
        expect(r.status).toBe('unknown')
        expect(server.seen).toHaveLength(3)
    })
})

describe('what is never sent', () => {
    it('skips a value an HTTP header cannot carry, without asking anyone', async () => {
        const server = await serve((_req, res) => json(res, 200, {}))
        const canary = makeCanary()
        const r = await probeKey(specOf('openai'), `${canary}\nX-Evil: 1`, { ...fast, baseUrl: server.url })
        expect(r.status).toBe('skipped')
        expect(server.seen).toHaveLength(0)
        expect(findLeaks(canary, { result: JSON.stringify(r) })).toEqual([])
    })

    it('refuses plain http off loopback and URLs with credentials, before sending', async () => {
        await expect(probeKey(specOf('openai'), sampleKey('openai'), { baseUrl: 'http://gateway.example.com' })).rejects.toMatchObject({ code: 'PROBE_BASE_URL_INVALID' })
        const err = await probeKey(specOf('openai'), sampleKey('openai'), { baseUrl: 'https://user:hunter2secret@gw.example.com' }).catch((e: unknown) => e)
        expect(err).toMatchObject({ code: 'PROBE_BASE_URL_INVALID' })
        expect(String((err as Error).message)).not.toContain('hunter2secret')
    })

    it('a custom secret without a probe is skipped', async () => {
        const spec = { ...specOf('openai'), name: 'AGENT_GATEWAY_TOKEN', service: 'gateway', probe: undefined, custom: true }
        expect((await probeKey(spec, 'gw_abcdefghijklmnopqrstuvwxyz')).status).toBe('skipped')
    })
})
