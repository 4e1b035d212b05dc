/**
 * A fake LLM provider on loopback (node:http) for the selection tests and
 * bench (issue 18). Each key has a request quota per fixed window; answers
 * carry the real rate-limit formats of the dialect chosen (as documented by
 * each provider, see docs/loader.md): OpenAI's `x-ratelimit-*` with Go-style
 * durations, Anthropic's `anthropic-ratelimit-*` with RFC 3339 resets and
 * `retry-after` seconds on a 429, Gemini's 429 body with RetryInfo
 * `retryDelay`, or a bare `Retry-After` (seconds). Unknown keys get 401.
 * It records which keys arrived, never printing them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Which provider's formats the fake speaks. */
export type Dialect = 'openai' | 'anthropic' | 'gemini' | 'retry-after'

/** Options of {@link startFakeProvider}. */
export interface FakeProviderOptions {
    readonly dialect: Dialect
    /** Requests per window, per key value. A key not listed is unknown (401). */
    readonly limits: Readonly<Record<string, number>>
    readonly windowMs: number
    /** Keys answered 401 (revoked). */
    readonly revoked?: readonly string[]
    /** Extra routes: path → handler (redirect tests). */
    readonly routes?: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse) => void>>
}

/** A running fake provider. */
export interface FakeProvider {
    readonly url: string
    readonly origin: string
    /** Per key value: answers 200 and 429. */
    readonly served: Map<string, { ok: number; limited: number }>
    /** Every request as received: method, path and the auth-carrying header names present. */
    readonly requests: { method: string; path: string; key: string | undefined; headers: Record<string, string | string[] | undefined> }[]
    close(): Promise<void>
}

/** A Go `time.Duration.String()`-style text, as OpenAI sends: `20ms`, `1.5s`, `6m0s`. */
export const goDuration = (ms: number): string => {
    if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
    const s = ms / 1000
    if (s < 60) return `${Number(s.toFixed(3))}s`
    const m = Math.floor(s / 60)
    return `${m}m${Number((s - m * 60).toFixed(3))}s`
}

const keyOf = (req: IncomingMessage): string | undefined => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)
    return bearer ?? one(req.headers['x-api-key']) ?? one(req.headers['x-goog-api-key'])
}

/** Starts a fake provider on 127.0.0.1 (a free port). */
export const startFakeProvider = async (options: FakeProviderOptions): Promise<FakeProvider> => {
    const windows = new Map<string, { start: number; used: number }>()
    const served = new Map<string, { ok: number; limited: number }>()
    const requests: FakeProvider['requests'] = []
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
        const key = keyOf(req)
        const path = (req.url ?? '/').split('?')[0] as string
        requests.push({ method: req.method ?? 'GET', path, key, headers: { ...req.headers } })
        req.resume()
        const route = options.routes?.[path]
        if (route) { route(req, res); return }
        const limit = key === undefined ? undefined : options.limits[key]
        if (key === undefined || limit === undefined || options.revoked?.includes(key)) {
            res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"type":"authentication_error","message":"invalid x-api-key"}}')
            return
        }
        const now = Date.now()
        let w = windows.get(key)
        if (w === undefined || now >= w.start + options.windowMs) {
            const start = w === undefined ? now : w.start + Math.floor((now - w.start) / options.windowMs) * options.windowMs
            windows.set(key, w = { start, used: 0 })
        }
        const count = served.get(key) ?? { ok: 0, limited: 0 }
        served.set(key, count)
        const resetAt = w.start + options.windowMs
        const ok = w.used < limit
        if (ok) { w.used++; count.ok++ } else count.limited++
        const remaining = limit - w.used
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        const left = Math.max(0, resetAt - now)
        if (options.dialect === 'openai') {
            Object.assign(headers, {
                'x-ratelimit-limit-requests': String(limit), 'x-ratelimit-remaining-requests': String(remaining),
                'x-ratelimit-reset-requests': goDuration(left),
                'x-ratelimit-limit-tokens': '150000', 'x-ratelimit-remaining-tokens': '149000', 'x-ratelimit-reset-tokens': '6m0s',
            })
        } else if (options.dialect === 'anthropic') {
            Object.assign(headers, {
                'anthropic-ratelimit-requests-limit': String(limit), 'anthropic-ratelimit-requests-remaining': String(remaining),
                'anthropic-ratelimit-requests-reset': new Date(resetAt).toISOString(),
                'anthropic-ratelimit-tokens-limit': '40000', 'anthropic-ratelimit-tokens-remaining': '39000',
                'anthropic-ratelimit-tokens-reset': new Date(now + 60_000).toISOString(),
            })
            if (!ok) headers['retry-after'] = String(Math.ceil(left / 1000))
        } else if (options.dialect === 'retry-after' && !ok) {
            headers['retry-after'] = String(Math.ceil(left / 1000))
        }
        if (ok) { res.writeHead(200, headers).end('{"ok":true}'); return }
        const body = options.dialect === 'gemini'
            ? JSON.stringify({ error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED', details: [
                { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests' }] },
                { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${(left / 1000).toFixed(3)}s` },
            ] } })
            : '{"error":{"type":"rate_limit_error","message":"rate limited"}}'
        res.writeHead(429, headers).end(body)
    }
    const server: Server = createServer(handler)
    server.keepAliveTimeout = 1000
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    const { port } = server.address() as AddressInfo
    const origin = `http://127.0.0.1:${port}`
    return {
        url: `${origin}/v1/chat/completions`, origin, served, requests,
        close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve() }) }),
    }
}
