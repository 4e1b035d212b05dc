/**
 * Reads what a provider's answer says about a key's quota (issue 18). The
 * formats, as the providers document them (docs/loader.md cites each):
 *
 * - OpenAI: `x-ratelimit-{limit,remaining}-{requests,tokens}` (integers) and
 *   `x-ratelimit-reset-{requests,tokens}`, a Go-style duration until the
 *   window refills: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
 *   the reset an RFC 3339 timestamp; `retry-after` (seconds) on a 429.
 * - Gemini: a 429 body `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}`,
 *   retryDelay a protobuf Duration (seconds, up to nine fractional digits, then `s`).
 * - Everyone: `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 *
 * Parsing never throws and never keeps header text: numbers out, nothing else.
 */

/** Headers as `fetch` (`Headers`) or `node:http` (a plain record) give them. */
export type HeadersLike = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>

/** What one answer says about the key's quota; every field optional. Times are epoch ms. */
export interface RateLimitInfo {
    readonly limitRequests?: number
    readonly remainingRequests?: number
    readonly resetRequestsAt?: number
    readonly limitTokens?: number
    readonly remainingTokens?: number
    readonly resetTokensAt?: number
    /** When the provider said to retry (Retry-After, retryDelay), if it did. */
    readonly retryAt?: number
}

const header = (headers: HeadersLike, name: string): string | undefined => {
    if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined
    const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>
    const value = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1]
    return typeof value === 'string' ? value : value?.[0]
}

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ns: 1e-6 }
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|μs|ns))+$/
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/g

/** A Go-style duration (`6m0s`, `1s`, `20ms`, `1.5s`) in ms; undefined when it is not one. */
export const parseDuration = (text: string | undefined): number | undefined => {
    const t = text?.trim()
    if (t === undefined || t.length > 40 || !DURATION.test(t)) return undefined
    let ms = 0
    for (const m of t.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    return Number.isFinite(ms) ? ms : undefined
}

/** `Retry-After`: delay-seconds or an HTTP-date, as epoch ms (undefined when neither). */
export const parseRetryAfter = (text: string | undefined, now: number): number | undefined => {
    const t = text?.trim()
    if (t === undefined || t === '' || t.length > 64) return undefined
    if (/^\d+(\.\d+)?$/.test(t)) return now + Number(t) * 1000
    const at = Date.parse(t)
    return Number.isFinite(at) && /[A-Za-z]{3}/.test(t) ? at : undefined
}

// RFC 3339, e.g. 2026-12-02T01:02:03Z or with an offset and fractions.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

const timestamp = (text: string | undefined): number | undefined => {
    const t = text?.trim()
    if (t === undefined || !RFC3339.test(t)) return undefined
    const at = Date.parse(t)
    return Number.isFinite(at) ? at : undefined
}

const count = (text: string | undefined): number | undefined => {
    const t = text?.trim()
    return t !== undefined && /^\d{1,15}$/.test(t) ? Number(t) : undefined
}

const minDefined = (...values: (number | undefined)[]): number | undefined => {
    const set = values.filter((v): v is number => v !== undefined)
    return set.length === 0 ? undefined : Math.min(...set)
}

/**
 * Gemini's RetryInfo in a 429 body: the `retryDelay` of a
 * `type.googleapis.com/google.rpc.RetryInfo` detail, in ms.
 */
export const parseRetryDelayBody = (body: string | undefined): number | undefined => {
    if (body === undefined || body.length > 256 * 1024) return undefined
    let json: unknown
    try { json = JSON.parse(body) } catch { return undefined }
    const details = (json as { error?: { details?: unknown } } | null)?.error?.details
    if (!Array.isArray(details)) return undefined
    for (const d of details as unknown[]) {
        const detail = d as { '@type'?: unknown; retryDelay?: unknown } | null
        if (detail?.['@type'] !== 'type.googleapis.com/google.rpc.RetryInfo' || typeof detail.retryDelay !== 'string') continue
        const m = /^(\d{1,12})(\.\d{1,9})?s$/.exec(detail.retryDelay.trim())
        if (m) return Number(`${m[1] as string}${m[2] ?? ''}`) * 1000
    }
    return undefined
}

/**
 * Everything the answer's headers (and, for Gemini's 429, its body) say about
 * the key's quota. Anthropic's tokens headers win over its input/output ones;
 * the earliest reset of a family is taken.
 */
export const parseRateLimit = (headers: HeadersLike, now: number, body?: string): RateLimitInfo => {
    const h = (name: string): string | undefined => header(headers, name)
    const anthropic = (kind: string, field: string): string | undefined => h(`anthropic-ratelimit-${kind}-${field}`)
    const limitRequests = count(h('x-ratelimit-limit-requests')) ?? count(anthropic('requests', 'limit'))
    const remainingRequests = count(h('x-ratelimit-remaining-requests')) ?? count(anthropic('requests', 'remaining'))
    const openaiReset = (kind: string): number | undefined => {
        const ms = parseDuration(h(`x-ratelimit-reset-${kind}`))
        return ms === undefined ? undefined : now + ms
    }
    const resetRequestsAt = openaiReset('requests') ?? timestamp(anthropic('requests', 'reset'))
    const limitTokens = count(h('x-ratelimit-limit-tokens')) ?? count(anthropic('tokens', 'limit'))
        ?? minDefined(count(anthropic('input-tokens', 'limit')), count(anthropic('output-tokens', 'limit')))
    const remainingTokens = count(h('x-ratelimit-remaining-tokens')) ?? count(anthropic('tokens', 'remaining'))
        ?? minDefined(count(anthropic('input-tokens', 'remaining')), count(anthropic('output-tokens', 'remaining')))
    const resetTokensAt = openaiReset('tokens') ?? timestamp(anthropic('tokens', 'reset'))
        ?? minDefined(timestamp(anthropic('input-tokens', 'reset')), timestamp(anthropic('output-tokens', 'reset')))
    const retryDelay = parseRetryDelayBody(body)
    const retryAt = parseRetryAfter(h('retry-after'), now) ?? (retryDelay === undefined ? undefined : now + retryDelay)
    const info: Record<string, number> = {}
    const put = (key: keyof RateLimitInfo, value: number | undefined): void => { if (value !== undefined) info[key] = value }
    put('limitRequests', limitRequests)
    put('remainingRequests', remainingRequests)
    put('resetRequestsAt', resetRequestsAt)
    put('limitTokens', limitTokens)
    put('remainingTokens', remainingTokens)
    put('resetTokensAt', resetTokensAt)
    put('retryAt', retryAt)
    return info
}

/**
 * How long a key should sit out after `status`: until the provider's
 * `retryAt`, else the reset of whichever quota is exhausted, else the later
 * reset; undefined for an answer that needs no cool-down (neither 429 nor 401).
 * @param fallbackMs - for a 429 that names no time at all.
 */
export const coolDownUntil = (status: number, info: RateLimitInfo, now: number, fallbackMs: number): number | undefined => {
    // A revoked key stays out until it is rotated (a new value starts fresh), as the live check does.
    if (status === 401) return Infinity
    if (status !== 429) return undefined
    if (info.retryAt !== undefined) return Math.max(now, info.retryAt)
    const exhausted = [
        info.remainingRequests === 0 ? info.resetRequestsAt : undefined,
        info.remainingTokens === 0 ? info.resetTokensAt : undefined,
    ].filter((v): v is number => v !== undefined)
    const resets = exhausted.length > 0 ? exhausted : [info.resetRequestsAt, info.resetTokensAt].filter((v): v is number => v !== undefined)
    return resets.length > 0 ? Math.max(now, ...resets) : now + fallbackMs
}
