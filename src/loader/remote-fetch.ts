/**
 * One conditional GET of the remote bundle with node's global fetch: the
 * ETag goes out as `If-None-Match`, redirects are followed by hand so the
 * token only ever goes to the configured origin, and a body is accepted only
 * whole (Content-Length matched, size capped). Every failure is a typed
 * error naming the URL without its query string (pre-signed URLs carry
 * credentials there), never the token or the body.
 */
import { KeyfleetError } from '../errors.js'
import { LoaderCode, loaderError } from './errors.js'
import type { ResolvedRemote } from './remote-options.js'

/** A bundle is a few KiB; anything past this is not one. */
const MAX_BYTES = 1 << 20
const MAX_REDIRECTS = 5
const GITHUB_CONTENTS = /^\/(?:api\/v3\/)?repos\/[^/]+\/[^/]+\/contents\//

/** What one poll found. */
export type FetchResult =
    | { readonly status: 'not-modified' }
    | { readonly status: 'ok'; readonly body: string; readonly etag: string | undefined; readonly bytes: number }

/** A failed poll: the error to report and, for 429/503, how long the server asked us to wait. */
export class FetchFailure extends Error {
    constructor(readonly error: KeyfleetError, readonly retryAfterMs?: number) {
        super(error.message)
    }
}

const fail = (code: typeof LoaderCode[keyof typeof LoaderCode], message: string, retryAfterMs?: number): never => {
    throw new FetchFailure(loaderError(code, message), retryAfterMs)
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export const retryAfterMs = (value: string | null, now = Date.now()): number | undefined => {
    if (value === null) return undefined
    if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
    const at = Date.parse(value)
    return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

const headersFor = (url: URL, remote: ResolvedRemote, etag: string | undefined): Record<string, string> => {
    const headers: Record<string, string> = { 'user-agent': 'keyfleet-loader' }
    if (GITHUB_CONTENTS.test(url.pathname)) {
        headers.accept = 'application/vnd.github.raw'
        headers['x-github-api-version'] = '2022-11-28'
    }
    if (etag !== undefined) headers['if-none-match'] = etag
    if (url.origin === remote.url.origin) {
        const token = remote.token()
        if (token !== undefined) headers.authorization = `Bearer ${token}`
    }
    return headers
}

const readBody = async (response: Response, where: string): Promise<Buffer> => {
    const declared = response.headers.get('content-length')
    if (declared !== null && Number(declared) > MAX_BYTES) fail(LoaderCode.REMOTE_UNAVAILABLE, `${where} answered with ${declared} bytes, more than a bundle can be; keeping the last good keys`)
    let bytes: Buffer
    try {
        bytes = Buffer.from(await response.arrayBuffer())
    } catch {
        return fail(LoaderCode.REMOTE_UNAVAILABLE, `${where}: the download was cut short; keeping the last good keys and retrying`)
    }
    // fetch decodes a compressed body, so the declared length counts only for an identity encoding.
    const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity'
    if (declared !== null && !encoded && Number(declared) !== bytes.length) fail(LoaderCode.REMOTE_UNAVAILABLE, `${where}: the download was cut short (${bytes.length} of ${declared} bytes); keeping the last good keys and retrying`)
    if (bytes.length > MAX_BYTES) fail(LoaderCode.REMOTE_UNAVAILABLE, `${where} answered with more than a bundle can be; keeping the last good keys`)
    return bytes
}

/**
 * Polls once.
 * @throws FetchFailure carrying `LOADER_REMOTE_UNAVAILABLE`, `LOADER_REMOTE_THROTTLED`,
 *   `LOADER_REMOTE_DENIED` or `LOADER_REMOTE_REDIRECT`.
 */
export const fetchBundle = async (remote: ResolvedRemote, etag: string | undefined, signal: AbortSignal): Promise<FetchResult> => {
    let url = remote.url
    const where = remote.display
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        let response: Response
        try {
            response = await fetch(url, { headers: headersFor(url, remote, etag), redirect: 'manual', signal: AbortSignal.any([signal, AbortSignal.timeout(remote.requestTimeoutMs)]) })
        } catch {
            return fail(LoaderCode.REMOTE_UNAVAILABLE, `cannot reach ${where} (network error or timeout); keeping the last good keys and retrying with backoff`)
        }
        const { status } = response
        if (status >= 300 && status < 400 && status !== 304) {
            await response.body?.cancel()
            const location = response.headers.get('location')
            let next: URL | undefined
            try { next = location === null ? undefined : new URL(location, url) } catch { next = undefined }
            if (next === undefined || (next.protocol !== 'https:' && next.protocol !== 'http:')) return fail(LoaderCode.REMOTE_UNAVAILABLE, `${where} redirected (${status}) to no usable location; keeping the last good keys`)
            if (next.origin !== remote.url.origin && remote.token() !== undefined) {
                return fail(LoaderCode.REMOTE_REDIRECT, `${where} redirected (${status}) to another origin (${next.origin}); refused, since a token is configured and is sent to ${remote.url.origin} only. Point the URL at the final location`)
            }
            url = next
            continue
        }
        if (status === 304) { await response.body?.cancel(); return { status: 'not-modified' } }
        if (status === 200) {
            const bytes = await readBody(response, where)
            return { status: 'ok', body: bytes.toString('utf8'), etag: response.headers.get('etag') ?? undefined, bytes: bytes.length }
        }
        await response.body?.cancel()
        let wait = retryAfterMs(response.headers.get('retry-after'))
        // GitHub's primary rate limit is a 403 with x-ratelimit-remaining: 0 and a reset time (epoch seconds).
        const reset = response.headers.get('x-ratelimit-reset')
        const exhausted = status === 403 && response.headers.get('x-ratelimit-remaining') === '0'
        if (exhausted && wait === undefined && reset !== null && /^\d+$/.test(reset)) wait = Math.max(0, Number(reset) * 1000 - Date.now())
        if (status === 429 || exhausted || (status === 403 && wait !== undefined) || (status === 503 && wait !== undefined)) return fail(LoaderCode.REMOTE_THROTTLED, `${where} answered ${status} (rate limited); keeping the last good keys and waiting ${wait === undefined ? 'with backoff' : `${Math.ceil(wait / 1000)} s as Retry-After asks`}`, wait)
        if (status === 401 || status === 403) return fail(LoaderCode.REMOTE_DENIED, `${where} answered ${status}; keeping the last good keys. Check the token (tokenFile / KEYFLEET_SECRETS_TOKEN_FILE) and its read access`)
        return fail(LoaderCode.REMOTE_UNAVAILABLE, `${where} answered ${status}${status === 404 ? ' (the bundle or the channel is gone)' : ''}; keeping the last good keys and retrying with backoff`)
    }
    return fail(LoaderCode.REMOTE_UNAVAILABLE, `${where} redirected more than ${MAX_REDIRECTS} times; keeping the last good keys`)
}
