/**
 * Turns a provider's HTTP answer into a verdict. Pure and synchronous.
 *
 * Provider error bodies can quote the key back (OpenAI's 401 message shows a
 * masked copy; a misbehaving proxy could echo it whole), so no text from a
 * body ever reaches a detail: only tokens from the fixed allow-list below and
 * fixed words of our own.
 */
import type { ProbeStatus } from './types.js'

/** The verdict on one HTTP response. */
export interface Classification {
    readonly status: Exclude<ProbeStatus, 'skipped'>
    /** e.g. `HTTP 401 authentication_error`; built from the status and allow-listed tokens only. */
    readonly detail: string
    /** Whether another attempt could change the verdict (5xx, 408). */
    readonly retryable: boolean
}

/** Error identifiers the providers put in their JSON bodies that may be shown. */
const KNOWN_TOKENS = new Set([
    // OpenAI, Fireworks, DeepInfra (OpenAI-compatible)
    'invalid_api_key', 'insufficient_quota', 'rate_limit_exceeded', 'invalid_request_error', 'account_deactivated',
    'billing_hard_limit_reached', 'UNAUTHORIZED', 'Unauthorized', 'PAYMENT_REQUIRED',
    // Anthropic
    'authentication_error', 'permission_error', 'billing_error', 'rate_limit_error', 'overloaded_error', 'api_error',
    'not_found_error',
    // Google (Gemini)
    'API_KEY_INVALID', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'RESOURCE_EXHAUSTED', 'INVALID_ARGUMENT',
    'RATE_LIMIT_EXCEEDED', 'BILLING_DISABLED', 'API_KEY_EXPIRED',
])

/** Tokens meaning "the key works but the account is out of quota or credit". */
const QUOTA_TOKENS = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'billing_error', 'RESOURCE_EXHAUSTED', 'BILLING_DISABLED', 'PAYMENT_REQUIRED'])
/** Tokens meaning "this key is not accepted". */
const INVALID_TOKENS = new Set(['invalid_api_key', 'authentication_error', 'API_KEY_INVALID', 'API_KEY_EXPIRED', 'UNAUTHENTICATED', 'account_deactivated'])

const QUOTA_PHRASES = /quota|credit balance|billing|insufficient (?:balance|funds|credits?)|payment required|out of credits?/i
const INVALID_PHRASES = /api key not valid|invalid api key|incorrect api key|invalid x-api-key|api key expired/i

/** Fields where the providers put error identifiers (OpenAI `error.code/type`, Anthropic `error.type`, Google `error.status` and `details[].reason`). */
const tokensOf = (body: string): string[] => {
    let json: unknown
    try {
        json = JSON.parse(body)
    } catch {
        return []
    }
    const found: string[] = []
    const take = (value: unknown): void => {
        if (typeof value === 'string' && KNOWN_TOKENS.has(value) && !found.includes(value)) found.push(value)
    }
    const visit = (node: unknown, depth: number): void => {
        if (depth > 4 || node === null || typeof node !== 'object') return
        if (Array.isArray(node)) {
            for (const item of node.slice(0, 16)) visit(item, depth + 1)
            return
        }
        const record = node as Record<string, unknown>
        for (const field of ['code', 'type', 'status', 'reason', 'error']) take(record[field])
        for (const field of ['error', 'details', 'detail']) visit(record[field], depth + 1)
    }
    visit(json, 0)
    return found
}

/**
 * Classifies one response.
 * @param httpStatus - the response status.
 * @param body - up to a few KiB of the body (may be empty); only inspected, never quoted.
 * @param retryAfterMs - the parsed Retry-After, shown for 429s.
 */
export const classify = (httpStatus: number, body: string, retryAfterMs?: number): Classification => {
    const tokens = tokensOf(body)
    const shown = tokens.length > 0 ? ` ${tokens.join(' ')}` : ''
    const detail = `HTTP ${httpStatus}${shown}`
    const quota = tokens.some((t) => QUOTA_TOKENS.has(t)) || QUOTA_PHRASES.test(body)
    const rejected = tokens.some((t) => INVALID_TOKENS.has(t)) || INVALID_PHRASES.test(body)
    if (httpStatus >= 200 && httpStatus < 300) return { status: 'valid', detail, retryable: false }
    if (httpStatus === 402) return { status: 'limited', detail: `${detail} (payment required)`, retryable: false }
    if (httpStatus === 429) {
        const wait = retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`
        return { status: 'limited', detail: `${detail} (${quota ? 'out of quota or credit' : 'rate limited'}${wait})`, retryable: false }
    }
    if (httpStatus >= 400 && httpStatus < 500 && httpStatus !== 408 && quota) {
        return { status: 'limited', detail: `${detail} (out of quota or credit)`, retryable: false }
    }
    if (httpStatus === 401 || httpStatus === 403) return { status: 'invalid', detail, retryable: false }
    // Gemini answers a bad key with 400 INVALID_ARGUMENT / reason API_KEY_INVALID.
    if (httpStatus === 400 && rejected) return { status: 'invalid', detail, retryable: false }
    if (httpStatus >= 500 || httpStatus === 408) return { status: 'unknown', detail: `${detail} (provider error)`, retryable: true }
    if (httpStatus >= 300 && httpStatus < 400) return { status: 'unknown', detail: `${detail} (redirect not followed)`, retryable: false }
    return { status: 'unknown', detail: `${detail} (unexpected answer: check the base URL and path)`, retryable: false }
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds.
 * @returns undefined when absent or unparsable; never negative.
 */
export const parseRetryAfter = (header: string | null, now: number = Date.now()): number | undefined => {
    if (header === null) return undefined
    const trimmed = header.trim()
    if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
    const date = Date.parse(trimmed)
    return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
