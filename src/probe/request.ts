/**
 * One probe attempt: a GET with the key in a header, a per-request timeout,
 * and redirects followed by hand — only within the same origin (scheme, host
 * and port), because fetch's own redirect handling would re-send custom
 * headers such as `x-api-key` to whatever host the Location names.
 */
import { classify, parseRetryAfter, type Classification } from './classify.js'
import type { FetchLike } from './types.js'

/** Abort reason the batch uses for its total deadline. */
export const DEADLINE_REASON = 'keyfleet:probe-deadline'
const TIMEOUT_REASON = 'keyfleet:probe-timeout'

/** The outcome of one attempt. */
export interface Attempt extends Classification {
    readonly httpStatus?: number
    readonly retryAfterMs?: number
}

/** What an attempt needs. */
export interface AttemptInput {
    readonly url: URL
    readonly headers: Readonly<Record<string, string>>
    readonly fetch: FetchLike
    readonly timeoutMs: number
    readonly maxRedirects: number
    readonly signal: AbortSignal | undefined
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
/** Bodies are only read to spot error tokens; a few KiB is plenty. */
const MAX_BODY = 16 * 1024

const discard = (response: Response): void => {
    response.body?.cancel().catch(() => undefined)
}

/** Reads at most MAX_BODY bytes; a body that breaks off counts as what arrived. */
const readBounded = async (response: Response): Promise<string> => {
    if (!response.body) return ''
    const reader = response.body.getReader()
    const chunks: Uint8Array[] = []
    let total = 0
    try {
        while (total < MAX_BODY) {
            // @types/node 20 types the web stream's chunk as any; a fetch body yields bytes.
            const { done, value } = await reader.read() as { done: boolean; value: Uint8Array | undefined }
            if (done || !value) break
            chunks.push(value)
            total += value.byteLength
        }
    } catch {
        // The status already arrived; the body only refines it.
    } finally {
        reader.cancel().catch(() => undefined)
    }
    return Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8')
}

/** An error code safe to show (`ECONNRESET`, `UND_ERR_SOCKET`); never an error message, which may quote input. */
const networkCode = (error: unknown): string => {
    const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
    const code = cause?.code ?? (error as { code?: unknown } | undefined)?.code
    return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'connection failed'
}

/**
 * Performs one attempt. Never throws: every failure becomes an `unknown` outcome.
 * The key is in `input.headers` and is sent to `input.url`'s origin only.
 */
export const attempt = async (input: AttemptInput): Promise<Attempt> => {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(TIMEOUT_REASON), input.timeoutMs)
    const forward = (): void => controller.abort(input.signal?.reason)
    if (input.signal?.aborted) forward()
    else input.signal?.addEventListener('abort', forward, { once: true })
    try {
        let current = input.url
        for (let hop = 0; ; hop++) {
            const response = await input.fetch(current.href, {
                method: 'GET', headers: { ...input.headers }, redirect: 'manual', signal: controller.signal,
            })
            const httpStatus = response.status
            if (REDIRECTS.has(httpStatus)) {
                const location = response.headers.get('location')
                discard(response)
                let next: URL | undefined
                try {
                    next = location === null ? undefined : new URL(location, current)
                } catch {
                    next = undefined
                }
                if (next === undefined) return { status: 'unknown', detail: `HTTP ${httpStatus} without a usable Location`, retryable: false, httpStatus }
                if (next.origin !== current.origin) {
                    const shown = next.origin.length <= 100 ? next.origin : 'another origin'
                    return { status: 'unknown', detail: `HTTP ${httpStatus} redirect to ${shown}, another origin: the key was not sent there`, retryable: false, httpStatus }
                }
                if (hop >= input.maxRedirects) return { status: 'unknown', detail: `HTTP ${httpStatus}: more than ${input.maxRedirects} redirects`, retryable: false, httpStatus }
                current = next
                continue
            }
            const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
            let body = ''
            if (httpStatus >= 200 && httpStatus < 300) discard(response)
            else body = await readBounded(response)
            const verdict = classify(httpStatus, body, retryAfterMs)
            return retryAfterMs === undefined ? { ...verdict, httpStatus } : { ...verdict, httpStatus, retryAfterMs }
        }
    } catch (error) {
        if (controller.signal.aborted) {
            if (controller.signal.reason === TIMEOUT_REASON) return { status: 'unknown', detail: `timed out after ${input.timeoutMs} ms`, retryable: true }
            const why = controller.signal.reason === DEADLINE_REASON ? 'stopped at the total deadline' : 'cancelled'
            return { status: 'unknown', detail: why, retryable: false }
        }
        return { status: 'unknown', detail: `network error (${networkCode(error)})`, retryable: true }
    } finally {
        clearTimeout(timer)
        input.signal?.removeEventListener('abort', forward)
    }
}
