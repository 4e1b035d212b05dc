/**
 * The rate-limit formats keyfleet reads (issue 18), with the examples the
 * providers publish (cited in docs/loader.md), and the sliding window of
 * `least-used`. Random inputs are seeded; the seed is in the test name.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { coolDownUntil, parseDuration, parseRateLimit, parseRetryAfter, parseRetryDelayBody } from '../../src/loader/rate-limit-headers.js'
import { MemberUsage } from '../../src/loader/usage.js'
import { goDuration } from './fake-provider.js'

const SEED = Number(process.env.KEYFLEET_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31))
const NOW = Date.parse('2026-12-02T01:00:00Z')

describe('OpenAI x-ratelimit-*', () => {
    it('reads limits, remaining and Go-style reset durations', () => {
        // The shape OpenAI documents and its forum shows (x-ratelimit-reset-requests: 12ms, …-tokens: 6m0s).
        const info = parseRateLimit(new Headers({
            'x-ratelimit-limit-requests': '5000', 'x-ratelimit-remaining-requests': '4999', 'x-ratelimit-reset-requests': '12ms',
            'x-ratelimit-limit-tokens': '160000', 'x-ratelimit-remaining-tokens': '159976', 'x-ratelimit-reset-tokens': '6m0s',
        }), NOW)
        expect(info).toEqual({ limitRequests: 5000, remainingRequests: 4999, resetRequestsAt: NOW + 12, limitTokens: 160000, remainingTokens: 159976, resetTokensAt: NOW + 360_000 })
    })

    it('parses every Go duration form, and nothing else', () => {
        expect([parseDuration('1s'), parseDuration('20ms'), parseDuration('6m0s'), parseDuration('1h2m3.5s'), parseDuration('0.5s'), parseDuration('17.123ms'), parseDuration('250us')])
            .toEqual([1000, 20, 360_000, 3_723_500, 500, 17.123, 0.25])
        for (const bad of ['', '1', 's', '1 s', '-1s', '1d', 'NaNs', '1s;', `${'9'.repeat(50)}s`]) expect(parseDuration(bad)).toBeUndefined()
    })

    it(`round-trips any duration the fake provider writes (property, seed ${SEED})`, () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: 3_600_000 }), (ms) => {
            expect(parseDuration(goDuration(ms))).toBeCloseTo(ms, 0)
        }), { seed: SEED, numRuns: 300 })
    })
})

describe('Anthropic anthropic-ratelimit-*', () => {
    it('reads RFC 3339 resets; tokens over input/output tokens', () => {
        const info = parseRateLimit({
            'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '49',
            'anthropic-ratelimit-requests-reset': '2026-12-02T01:00:30Z',
            'anthropic-ratelimit-input-tokens-remaining': '30000', 'anthropic-ratelimit-output-tokens-remaining': '8000',
            'anthropic-ratelimit-output-tokens-reset': '2026-12-02T01:00:05.5+00:00',
        }, NOW)
        expect(info).toEqual({ limitRequests: 50, remainingRequests: 49, resetRequestsAt: NOW + 30_000, remainingTokens: 8000, resetTokensAt: NOW + 5500 })
    })

    it('takes retry-after (seconds) on a 429 as the cool-down', () => {
        const info = parseRateLimit({ 'retry-after': '60', 'anthropic-ratelimit-requests-remaining': '0' }, NOW)
        expect(coolDownUntil(429, info, NOW, 1)).toBe(NOW + 60_000)
    })
})

describe('Gemini RetryInfo and standard Retry-After', () => {
    it('reads retryDelay from a 429 body', () => {
        const body = JSON.stringify({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [
            { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' },
        ] } })
        expect(parseRetryDelayBody(body)).toBe(30_000)
        expect(parseRetryDelayBody(body.replace('30s', '3.5s'))).toBe(3500)
        expect(parseRateLimit(new Headers(), NOW, body)).toEqual({ retryAt: NOW + 30_000 })
        for (const bad of ['not json', '{}', '{"error":{"details":[{"retryDelay":"30s"}]}}', body.replace('30s', '30 seconds')]) expect(parseRetryDelayBody(bad)).toBeUndefined()
    })

    it('reads Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3)', () => {
        expect(parseRetryAfter('120', NOW)).toBe(NOW + 120_000)
        expect(parseRetryAfter('Wed, 02 Dec 2026 01:01:00 GMT', NOW)).toBe(NOW + 60_000)
        expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37))
        for (const bad of ['', 'soon', '-5', '2026-12-02T01:01:00Z']) expect(parseRetryAfter(bad, NOW)).toBeUndefined()
    })

    it('cools down a 429 until the provider says, else until the spent quota resets, else for the fallback; a 401 until rotated', () => {
        expect(coolDownUntil(429, { remainingRequests: 0, resetRequestsAt: NOW + 900, remainingTokens: 5, resetTokensAt: NOW + 50_000 }, NOW, 7)).toBe(NOW + 900)
        expect(coolDownUntil(429, {}, NOW, 7)).toBe(NOW + 7)
        expect(coolDownUntil(401, {}, NOW, 7)).toBe(Infinity)
        expect(coolDownUntil(200, { retryAt: NOW + 5 }, NOW, 7)).toBeUndefined()
        expect(coolDownUntil(403, {}, NOW, 7)).toBeUndefined()
    })
})

describe('MemberUsage', () => {
    it('counts calls in a sliding window (to within one twelfth of it)', () => {
        const u = new MemberUsage('OPENAI_API_KEY', 'fp', 60_000)
        for (let t = 0; t < 60_000; t += 1000) { u.record(); u.stamp(NOW + t) }
        expect(u.windowCalls(NOW + 59_999)).toBe(60)
        expect(u.windowCalls(NOW + 90_000)).toBeLessThanOrEqual(35)
        expect(u.windowCalls(NOW + 90_000)).toBeGreaterThanOrEqual(25)
        expect(u.windowCalls(NOW + 200_000)).toBe(0)
        expect(u.calls).toBe(60)
    })

    it('estimates headroom from the last answer minus unobserved picks, refills after the reset, and starts afresh on a new value', () => {
        const u = new MemberUsage('OPENAI_API_KEY', 'fp', 60_000)
        expect(u.headroom(NOW)).toBe(Infinity)
        u.record()
        u.observe({ limitRequests: 10, remainingRequests: 4, resetRequestsAt: NOW + 1000 }, undefined)
        u.record()
        expect(u.headroom(NOW)).toBe(3)
        expect(u.headroom(NOW + 1000)).toBe(10)
        u.observe({}, NOW + 500)
        expect(u.headroom(NOW + 499)).toBe(0)
        u.rebase('other')
        expect([u.calls, u.headroom(NOW)]).toEqual([0, Infinity])
    })
})
