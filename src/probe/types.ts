/**
 * The shapes of live key checks: what a probe reports and the knobs that
 * bound it. See docs/live-check.md.
 */

/** The verdict on one key. */
export type ProbeStatus = 'valid' | 'invalid' | 'limited' | 'unknown' | 'skipped'

/** The outcome of probing one key. Holds names and a hint only, never the key. */
export interface ProbeResult {
    /** The name as stored, e.g. `OPENAI_API_KEY_2`. */
    readonly name: string
    /** The catalog service, e.g. `openai`; `custom` for names the catalog does not know. */
    readonly service: string
    readonly status: ProbeStatus
    /** HTTP status of the last response, when one arrived. */
    readonly httpStatus?: number
    /** Why: `HTTP 401 authentication_error`, `timed out after 10000 ms (3 attempts)`, … Never provider message text. */
    readonly detail: string
    /** Safe hint such as `openai, 51 chars, …wxyz` (see catalog/hint.ts). */
    readonly hint: string
    /** Wall time spent on this key across all attempts, in milliseconds. */
    readonly ms: number
}

/** A `fetch` compatible with the global one; injectable for tests. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** Options of one probe. Every field has a documented default. */
export interface ProbeOptions {
    /** Base URL replacing the catalog's (proxy, gateway, test server); https, or http on loopback only. */
    readonly baseUrl?: string
    /**
     * Origins the catalog's probe URLs may point to besides the built-in
     * providers' own (normalized, see `parseAllowedOrigins`). Supplied by the
     * operator, never read from the repository. An explicit `baseUrl` is the
     * operator's and needs no entry.
     */
    readonly allowedOrigins?: readonly string[]
    /** Per-request timeout (headers and the bounded body read), default 10000 ms. */
    readonly timeoutMs?: number
    /** Extra attempts after an `unknown` outcome (timeout, network error, 5xx, 408), default 2. */
    readonly retries?: number
    /** First backoff before a retry, doubled per retry with jitter, default 500 ms. */
    readonly backoffMs?: number
    /** Longest Retry-After honoured before a retry, default 5000 ms (longer values are cut to this). */
    readonly maxRetryAfterMs?: number
    /** Same-origin redirects followed at most, default 3. */
    readonly maxRedirects?: number
    /** Aborts the probe (the total deadline of a batch). */
    readonly signal?: AbortSignal
    /** Defaults to the global fetch. */
    readonly fetch?: FetchLike
}

/** Progress of a batch, for a CLI progress line. Carries names, never values. */
export interface ProbeProgress {
    readonly done: number
    readonly total: number
    readonly result: ProbeResult
}

/** Options of a batch of probes ({@link ProbeOptions} minus the per-key ones). */
export interface ProbeKeysOptions extends Omit<ProbeOptions, 'baseUrl' | 'signal'> {
    /** Base URL per service (`openai`) or name (`OPENAI_API_KEY`), overriding the catalog. */
    readonly baseUrls?: Readonly<Record<string, string>>
    /**
     * Region → service → base URL (deployment.yaml's `regions:`). A regional variant
     * (`OPENAI_API_KEY__EU`) is probed there only when that origin is the provider's own or on
     * `allowedOrigins`; otherwise at the catalog's origin, and the result's detail says why.
     */
    readonly regionBaseUrls?: Readonly<Record<string, Readonly<Record<string, string>>>>
    /** Probes in flight at most, default 4. */
    readonly concurrency?: number
    /** Total time for the whole batch, default 60000 ms; keys not finished by then are `unknown`. */
    readonly deadlineMs?: number
    /** Probe values that fail their provider's format rule anyway (default false: such a value may be another provider's key and is not sent). */
    readonly probeMalformed?: boolean
    /** Aborts the whole batch (e.g. Ctrl-C); unfinished keys become `unknown`. */
    readonly signal?: AbortSignal
    /** Called after each key finishes. Must not throw. */
    readonly onProgress?: (progress: ProbeProgress) => void
}
