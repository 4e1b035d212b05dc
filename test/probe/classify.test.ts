import { describe, expect, it } from 'vitest'
import { classify, parseRetryAfter } from '../../src/probe/index.js'

describe('classify', () => {
    it.each([
        [200, '', 'valid'],
        [204, '', 'valid'],
        [401, '{"error":{"code":"invalid_api_key"}}', 'invalid'],
        [403, '', 'invalid'],
        [400, '{"error":{"status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}', 'invalid'],
        [402, '', 'limited'],
        [429, '', 'limited'],
        [403, '{"error":{"status":"RESOURCE_EXHAUSTED"}}', 'limited'],
        [400, '{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low"}}', 'limited'],
        [400, '{"error":"bad request"}', 'unknown'],
        [404, '', 'unknown'],
        [500, '', 'unknown'],
        [529, '{"type":"error","error":{"type":"overloaded_error"}}', 'unknown'],
        [408, '', 'unknown'],
        [302, '', 'unknown'],
    ] as const)('HTTP %i %s -> %s', (status, body, expected) => {
        expect(classify(status, body).status).toBe(expected)
    })

    it('retries only what another attempt could change', () => {
        expect(classify(503, '').retryable).toBe(true)
        expect(classify(408, '').retryable).toBe(true)
        expect(classify(404, '').retryable).toBe(false)
        expect(classify(401, '').retryable).toBe(false)
        expect(classify(429, '').retryable).toBe(false)
    })

    it('quotes only allow-listed tokens, never body text', () => {
        const key = 'sk-proj-SECRETSECRETSECRETSECRET'
        const r = classify(401, JSON.stringify({ error: { message: `Incorrect API key provided: ${key}`, code: key, type: 'invalid_request_error' } }))
        expect(r.detail).toBe('HTTP 401 invalid_request_error')
        expect(classify(500, 'Internal error for key sk-abc').detail).toBe('HTTP 500 (provider error)')
    })

    it('says whether a 429 is a rate limit or an empty account, with Retry-After', () => {
        expect(classify(429, '', 2500).detail).toBe('HTTP 429 (rate limited, retry after 3 s)')
        expect(classify(429, '{"error":{"code":"insufficient_quota"}}').detail).toBe('HTTP 429 insufficient_quota (out of quota or credit)')
    })
})

describe('parseRetryAfter', () => {
    it('reads seconds and HTTP dates', () => {
        expect(parseRetryAfter('7')).toBe(7000)
        expect(parseRetryAfter(null)).toBeUndefined()
        expect(parseRetryAfter('soon')).toBeUndefined()
        const now = Date.parse('2026-01-01T00:00:00Z')
        expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000)
        expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0)
    })
})
