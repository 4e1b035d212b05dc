/**
 * `keys.fetch(service, url, init)` (issue 18): picks a key of the service by
 * its pool's strategy, sets the provider's auth header (the catalog's probe
 * `auth`: bearer, x-api-key or x-goog-api-key, plus its fixed headers such as
 * `anthropic-version`), feeds the answer to `observe`, and on a 429 or a
 * revoked key (401) tries once more with another member.
 *
 * The key never leaves for another origin: redirects are followed by hand
 * (`redirect: 'manual'`), same origin only; a redirect elsewhere is refused
 * with LOADER_FETCH_REDIRECT_BLOCKED. Keys go over https only (plain http
 * only to loopback). Errors name origins and status codes, never a key, a
 * header or the request URL's path and query.
 */
import type { ProbeSpec, SecretSpec } from '../catalog/types.js'
import { KeyfleetError } from '../errors.js'
import { systemCause } from './errors.js'
import type { KeyChoice } from './pool.js'

/** Options of `keys.fetch`. */
export interface KeyFetchOptions {
    /** How the key is sent when the catalog has no probe for the service (custom secrets). */
    readonly auth?: ProbeSpec['auth'] | undefined
    /** Retry once with another pool member after a 429 or 401. Default true. */
    readonly retry?: boolean | undefined
    /** Same-origin redirects followed at most. Default 5. */
    readonly maxRedirects?: number | undefined
    /**
     * When the picked member is cooling or its reported quota is spent (every member is, for
     * `headroom`), wait up to this many ms for it to come back instead of sending a request
     * bound to be refused. Default 0: send at once.
     */
    readonly maxWaitMs?: number | undefined
    /** The fetch implementation. Default `globalThis.fetch`. */
    readonly fetch?: typeof fetch | undefined
}

/** What `keys.fetch` needs from the store. */
export interface FetchDeps {
    pick(service: string): KeyChoice | undefined
    spec(service: string): SecretSpec | undefined
    observe(choice: KeyChoice, response: Response, body?: string): void
    /** Milliseconds until the member can take a call (0: now). */
    readyIn(choice: KeyChoice): number
    /** Counts a request to the member out (+1) and back (-1). */
    inflight(choice: KeyChoice, delta: 1 | -1): void
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms) })

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

const authHeaders = (auth: ProbeSpec['auth'], value: string): [string, string] =>
    auth === 'bearer' ? ['authorization', `Bearer ${value}`] : [auth, value]

// A body that can be sent twice (a retry, a 307/308); a stream cannot.
const replayable = (body: RequestInit['body']): boolean => body === undefined || body === null || typeof body === 'string'
    || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof URLSearchParams
    || (typeof Blob !== 'undefined' && body instanceof Blob) || (typeof FormData !== 'undefined' && body instanceof FormData)

const fetchError = (code: 'LOADER_FETCH_FAILED' | 'LOADER_FETCH_REDIRECT_BLOCKED' | 'LOADER_FETCH_INSECURE' | 'LOADER_FETCH_NO_AUTH' | 'LOADER_FETCH_BAD_HEADER', message: string, cause?: unknown): KeyfleetError =>
    new KeyfleetError(code, message, cause === undefined ? {} : { cause })

/**
 * The fetch with a pool key. Resolves with the provider's final answer (a
 * 429 after the retry included); the caller reads its body as usual.
 * @throws KeyfleetError `LOADER_KEY_MISSING` (no key for the service), `LOADER_FETCH_NO_AUTH`,
 *   `LOADER_FETCH_INSECURE` (http to a non-loopback host), `LOADER_FETCH_REDIRECT_BLOCKED`, `LOADER_FETCH_FAILED`,
 *   `LOADER_FETCH_BAD_HEADER` (a key or `init.headers` a header cannot carry).
 */
export const fetchWithKey = async (deps: FetchDeps, service: string, input: string | URL, init: RequestInit = {}, options: KeyFetchOptions = {}): Promise<Response> => {
    const url = new URL(input)
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
        throw fetchError('LOADER_FETCH_INSECURE', `keys.fetch sends keys over https only (plain http only to loopback); ${url.protocol}//${url.host} refused`)
    }
    if (url.username !== '' || url.password !== '') throw fetchError('LOADER_FETCH_INSECURE', `keys.fetch refuses a URL with credentials in it (${url.origin})`)
    const spec = deps.spec(service)
    const auth = spec?.probe?.auth ?? options.auth
    if (auth === undefined) throw fetchError('LOADER_FETCH_NO_AUTH', `keys.fetch does not know how ${service} sends its key: pass { auth: 'bearer' | 'x-api-key' | 'x-goog-api-key' }`)
    const doFetch = options.fetch ?? globalThis.fetch
    const canRetry = options.retry !== false && replayable(init.body)
    let first: KeyChoice | undefined = deps.pick(service)
    if (first === undefined) throw new KeyfleetError('LOADER_KEY_MISSING', `keys.fetch: no usable key for "${service}"; add it to the environment's secrets and deployment`)
    const maxWait = Math.max(0, options.maxWaitMs ?? 0)
    for (let attempt = 0; ; attempt++) {
        const choice: KeyChoice = first
        const wait = maxWait > 0 ? deps.readyIn(choice) : 0
        if (wait > 0 && wait <= maxWait) await sleep(Math.ceil(wait))
        deps.inflight(choice, 1)
        let response: Response
        try {
            response = await send(doFetch, url, init, choice, auth, spec?.probe?.headers ?? {}, options.maxRedirects ?? 5)
            // Gemini says how long to wait in the 429 body (RetryInfo); read a copy, the caller keeps the original.
            const body = response.status === 429 ? await response.clone().text().catch(() => undefined) : undefined
            deps.observe(choice, response, body)
        } finally {
            deps.inflight(choice, -1)
        }
        const limited = response.status === 429 || response.status === 401
        if (!limited || attempt > 0 || !canRetry) return response
        const next = deps.pick(service)
        if (next === undefined || next.name === choice.name) return response
        await response.body?.cancel().catch(() => undefined)
        first = next
    }
}

// A header value Node accepts: Latin-1, no CR/LF/NUL. Checked here because Node's own
// TypeError quotes the whole value ("Bearer <key>") in its message.
const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * The request headers: the caller's, the provider's fixed ones, the key's.
 * Any failure becomes LOADER_FETCH_BAD_HEADER naming the member only, with no
 * cause (a TypeError from Headers may quote the value).
 */
const buildHeaders = (init: RequestInit, fixed: Readonly<Record<string, string>>, auth: ProbeSpec['auth'], choice: KeyChoice): Headers => {
    if (!HEADER_SAFE.test(choice.value)) {
        throw fetchError('LOADER_FETCH_BAD_HEADER', `keys.fetch: the key ${choice.name} holds a character a header cannot carry (CR, LF, NUL or non-Latin-1); fix the stored value`)
    }
    let headers: Headers
    try {
        headers = new Headers(init.headers)
    } catch {
        throw fetchError('LOADER_FETCH_BAD_HEADER', `keys.fetch: init.headers is not a valid header set (a bad name or value); nothing was sent`)
    }
    try {
        for (const [k, v] of Object.entries(fixed)) if (!headers.has(k)) headers.set(k, v)
        const [name, value] = authHeaders(auth, choice.value)
        headers.set(name, value)
    } catch {
        throw fetchError('LOADER_FETCH_BAD_HEADER', `keys.fetch: the auth header for ${choice.name} could not be built; nothing was sent`)
    }
    return headers
}

const send = async (
    doFetch: typeof fetch, start: URL, init: RequestInit, choice: KeyChoice, auth: ProbeSpec['auth'],
    fixed: Readonly<Record<string, string>>, maxRedirects: number,
): Promise<Response> => {
    let url = start
    let method = (init.method ?? 'GET').toUpperCase()
    let body = init.body
    for (let hop = 0; ; hop++) {
        const headers = buildHeaders(init, fixed, auth, choice)
        let response: Response
        try {
            response = await doFetch(url, { ...init, method, body, headers, redirect: 'manual' })
        } catch (error) {
            // undici's "fetch failed" carries the cause's code (ECONNREFUSED…); keep the code only.
            throw fetchError('LOADER_FETCH_FAILED', `keys.fetch to ${url.origin} failed (${systemCause((error as { cause?: unknown }).cause ?? error).message}); no answer arrived`, systemCause((error as { cause?: unknown }).cause ?? error))
        }
        const location = response.headers.get('location')
        if (!REDIRECTS.has(response.status) || location === null) return response
        await response.body?.cancel().catch(() => undefined)
        let next: URL
        try { next = new URL(location, url) } catch { throw fetchError('LOADER_FETCH_REDIRECT_BLOCKED', `keys.fetch: ${url.origin} answered ${response.status} with an unparseable Location; not followed`) }
        if (next.origin !== start.origin) {
            throw fetchError('LOADER_FETCH_REDIRECT_BLOCKED', `keys.fetch: ${start.origin} redirected (${response.status}) to another origin, ${next.origin}; the key is never sent elsewhere, so the redirect was not followed`)
        }
        if (hop >= maxRedirects) throw fetchError('LOADER_FETCH_REDIRECT_BLOCKED', `keys.fetch: more than ${maxRedirects} redirects within ${start.origin}; stopped`)
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
            if (method !== 'HEAD') method = 'GET'
            body = undefined
        } else if (!replayable(body)) {
            throw fetchError('LOADER_FETCH_REDIRECT_BLOCKED', `keys.fetch: ${start.origin} answered ${response.status}, which resends the body, and a stream body cannot be sent twice`)
        }
        url = next
    }
}
