/**
 * Probing one key: the provider's cheapest authenticated call, retried with
 * backoff while the answer is `unknown` (timeouts, network errors, 5xx), never
 * for a definite answer.
 */
import { formatHint, keyHint } from '../catalog/hint.js'
import type { ProbeSpec, SecretSpec } from '../catalog/types.js'
import { attempt, DEADLINE_REASON, type Attempt } from './request.js'
import type { FetchLike, ProbeOptions, ProbeResult } from './types.js'
import { assertCatalogOrigin, probeUrl } from './url.js'

/** Defaults of {@link ProbeOptions}; docs/live-check.md lists them. */
export const PROBE_DEFAULTS = {
    timeoutMs: 10_000,
    retries: 2,
    backoffMs: 500,
    maxRetryAfterMs: 5_000,
    maxRedirects: 3,
} as const

/** Visible ASCII only: anything else cannot go in a header, and fetch's error for it quotes the value. */
const HEADER_SAFE = /^[\x21-\x7e]+$/

/** The headers of a probe: fixed ones, the catalog's, then the key (last, so nothing overrides it). */
export const probeHeaders = (probe: ProbeSpec, value: string): Record<string, string> => {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'keyfleet-check/1', ...probe.headers }
    if (probe.auth === 'bearer') headers.authorization = `Bearer ${value}`
    else headers[probe.auth] = value
    return headers
}

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve) => {
        if (signal?.aborted) return resolve()
        const done = (): void => {
            clearTimeout(timer)
            signal?.removeEventListener('abort', done)
            resolve()
        }
        const timer = setTimeout(done, ms)
        signal?.addEventListener('abort', done, { once: true })
    })

/** Removes the value from a detail, should any path ever put it there (defence in depth). */
const scrub = (detail: string, value: string): string =>
    value.length >= 8 ? detail.replace(new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[redacted]') : detail

/** Options of {@link probeKey}: {@link ProbeOptions} plus the stored name. */
export interface ProbeKeyOptions extends ProbeOptions {
    /** The name as stored (a pool member such as `OPENAI_API_KEY_2`); default `spec.name`. */
    readonly name?: string
}

/**
 * Probes `value` as a key of `spec`'s provider.
 * Returns `skipped` when the catalog has no probe for it or the value cannot
 * travel in a header; otherwise valid / invalid / limited / unknown (see
 * classify.ts). The key is sent in a header to the probe origin only.
 * Never prints and never reads process.env.
 * @throws KeyfleetError `PROBE_BASE_URL_INVALID` for a bad base URL, `PROBE_ORIGIN_NOT_ALLOWED` when the
 *   catalog's probe origin is neither the built-in one nor allowed (both before anything is sent).
 */
export const probeKey = async (spec: SecretSpec, value: string, options: ProbeKeyOptions = {}): Promise<ProbeResult> => {
    const started = performance.now()
    const name = options.name ?? spec.name
    const hint = formatHint({ ...keyHint(name, value), provider: spec.service })
    const result = (status: ProbeResult['status'], detail: string, httpStatus?: number): ProbeResult => ({
        name, service: spec.service, status, ...(httpStatus === undefined ? {} : { httpStatus }),
        detail: scrub(detail, value), hint, ms: Math.round(performance.now() - started),
    })
    if (!spec.probe) return result('skipped', 'the catalog has no probe for it')
    if (options.baseUrl === undefined) assertCatalogOrigin(spec, options.allowedOrigins ?? [])
    const url = probeUrl(options.baseUrl ?? spec.probe.baseUrl, spec.probe.path)
    if (!HEADER_SAFE.test(value)) return result('skipped', 'holds whitespace, control or non-ASCII characters, which no key has; not sent')
    const fetchFn: FetchLike = options.fetch ?? ((input, init) => fetch(input, init))
    const retries = Math.max(0, options.retries ?? PROBE_DEFAULTS.retries)
    const backoffMs = options.backoffMs ?? PROBE_DEFAULTS.backoffMs
    const maxRetryAfterMs = options.maxRetryAfterMs ?? PROBE_DEFAULTS.maxRetryAfterMs
    const input = {
        url, headers: probeHeaders(spec.probe, value), fetch: fetchFn, signal: options.signal,
        timeoutMs: options.timeoutMs ?? PROBE_DEFAULTS.timeoutMs, maxRedirects: options.maxRedirects ?? PROBE_DEFAULTS.maxRedirects,
    }
    let outcome: Attempt = await attempt(input)
    let attempts = 1
    while (outcome.retryable && attempts <= retries && !options.signal?.aborted) {
        const backoff = backoffMs * 2 ** (attempts - 1) * (1 + Math.random() * 0.25)
        await sleep(outcome.retryAfterMs === undefined ? backoff : Math.min(outcome.retryAfterMs, maxRetryAfterMs), options.signal)
        if (options.signal?.aborted) break
        outcome = await attempt(input)
        attempts++
    }
    const stopped = options.signal?.aborted === true && outcome.retryable
        ? `; ${options.signal.reason === DEADLINE_REASON ? 'total deadline reached' : 'cancelled'} before another attempt`
        : ''
    const tries = attempts > 1 ? ` (${attempts} attempts)` : ''
    return result(outcome.status, `${outcome.detail}${tries}${stopped}`, outcome.httpStatus)
}
