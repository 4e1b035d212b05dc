/** The public shape of a key store and its events. */
import type { KeyfleetError } from '../errors.js'
import type { BundleInfo } from './decrypt.js'
import type { Deployed } from './deployed.js'
import type { Unsubscribe } from './emitter.js'
import type { KeyFetchOptions } from './fetch.js'
import type { KeyChoice } from './pool.js'
import type { HeadersLike, RateLimitInfo } from './rate-limit-headers.js'
import type { KeyStats } from './usage.js'
import type { SourceKind } from './read-source.js'
import type { ServeStatusOptions, StatusHandler, StatusServer } from './status.js'

/** Payload of the `change` event: which keys changed, never their values. */
export interface ChangeEvent {
    /** Canonical names added, changed or removed, sorted. */
    readonly names: readonly string[]
    /** The generation now served. */
    readonly generation: number
    /** The render now served (as {@link KeyStore.deployed}); undefined when serving environment variables only. */
    readonly deployed: Deployed | undefined
}

/** Payload of the `fallback` event: watching is impossible, the store polls. */
export interface FallbackEvent {
    /** The errno code that made watching impossible, e.g. `ENOSPC` (inotify watches exhausted). */
    readonly reason: string
    /** The poll interval now in use. */
    readonly intervalMs: number
    /** The same facts as a typed error (`LOADER_POLLING_FALLBACK`), for logging. */
    readonly error: KeyfleetError
}

/** Payload of the `watching` event: after a polling fallback, a directory watch works again and polling stopped. */
export interface WatchingEvent {
    /** Milliseconds from the `fallback` event to the watch working again. */
    readonly afterMs: number
    /** Re-watch attempts it took, the successful one included. */
    readonly attempts: number
}

/** One key's live-check outcome (`check` event). Names, status and a hint: never the value. */
export interface KeyCheckResult {
    /** Canonical name, e.g. `OPENAI_API_KEY_2`. */
    readonly name: string
    /** Catalog service, e.g. `openai`; `custom` for names the catalog does not know. */
    readonly service: string
    /** `valid` (2xx), `invalid` (401/403), `limited` (429, quota), `unknown` (timeout, 5xx, network), `skipped` (not sent). */
    readonly status: 'valid' | 'invalid' | 'limited' | 'unknown' | 'skipped'
    /** HTTP status of the last answer, when one arrived. */
    readonly httpStatus?: number
    /** Why, e.g. `HTTP 401 invalid_api_key`; never provider message text. */
    readonly detail: string
    /** Safe hint: provider, length, last four characters. */
    readonly hint: string
    /** Wall time spent on this key, in ms. */
    readonly ms: number
}

/** Payload of the `check` event. */
export interface CheckEvent {
    /** The generation whose keys were checked. */
    readonly generation: number
    /** One result per key served in that generation, in name order. */
    readonly results: readonly KeyCheckResult[]
}

/** Events of a {@link KeyStore}. */
export interface KeyStoreEvents {
    /** The effective key set changed; the new snapshot is already being served. */
    change: ChangeEvent
    /** The source is bad (missing, unreadable, half-written, MAC failure …); the last good keys stay in use. Never carries a value. */
    error: KeyfleetError
    /** Watching failed (inotify limits); the store polls, and retries watching with backoff (`rewatch` option). */
    fallback: FallbackEvent
    /** A re-watch attempt after a fallback succeeded: polling stopped, and the source is re-read at once. */
    watching: WatchingEvent
    /** The live key check finished (only with the `check` option). */
    check: CheckEvent
}

/** A consistent, immutable view of one generation: use it to read several keys across `await`s. */
export interface KeyView {
    readonly generation: number
    /** As {@link KeyStore.get}, within this generation. */
    get(nameOrService: string): string | undefined
    /** Canonical names in this generation, sorted. */
    names(): string[]
}

/** What the store is reading and how. */
export interface SourceStatus {
    /** The source path, or undefined when serving environment variables only. */
    readonly path: string | undefined
    /** The kind of the last good read, undefined before one. */
    readonly kind: SourceKind | undefined
    /** Metadata of an age bundle source (environment, agent, generation). */
    readonly bundle: BundleInfo | undefined
    /** How changes are noticed: `watch` (fs.watch on directories), `poll` (fallback or `watch: false`), `none` (env only or closed). */
    readonly mode: 'watch' | 'poll' | 'none'
    /** The current source problem, or undefined while it is healthy. */
    readonly problem: KeyfleetError | undefined
}

/** Options of {@link KeyStore.reportFailure}. */
export interface FailureOptions {
    /** How long the key sits out, in ms. Default 60 000. */
    readonly cooldownMs?: number
}

/**
 * Live API keys. Lookups are in-memory Map reads against the current snapshot;
 * snapshots are swapped whole, so two `get`s in the same synchronous block
 * always see the same generation.
 */
export interface KeyStore {
    /**
     * The value for an env name (`OPENAI_API_KEY`), alias (`CLAUDE_API_KEY`),
     * pool member (`OPENAI_API_KEY_2`) or service (`openai`, `claude`); a
     * service with a pool rotates round robin over it. No I/O, no allocation.
     * @returns undefined when no usable value exists (placeholders never count).
     */
    get(nameOrService: string): string | undefined
    /**
     * As {@link KeyStore.get}, but a missing key is an error.
     * @throws KeyfleetError `LOADER_KEY_MISSING` naming the key, the names tried and the source.
     */
    require(nameOrService: string): string
    /** As {@link KeyStore.get} but returns the chosen key's canonical name too (preallocated; for `reportFailure`). */
    pick(nameOrService: string): KeyChoice | undefined
    /**
     * Takes a pool member out of rotation for a cool-down (after a 401/429).
     * @param key - the member's name (e.g. `OPENAI_API_KEY_2`) or a choice from {@link KeyStore.pick}.
     * @returns false when the name is not in a pool of two or more keys.
     */
    reportFailure(key: string | KeyChoice, options?: FailureOptions): boolean
    /**
     * Feeds a provider's answer to a key picked with {@link KeyStore.pick} (issue 18): its
     * rate-limit headers steer `headroom`, and a 429 (for as long as the provider says) or
     * a 401 (until the key is rotated) takes the member out of rotation.
     * @param body - for a 429, the body text (Gemini puts `retryDelay` there); optional.
     * @returns the numbers read (names and numbers only).
     */
    observe(choice: KeyChoice, response: { readonly status: number; readonly headers: HeadersLike }, body?: string): RateLimitInfo
    /**
     * `fetch` with a key of `service`: picks by the pool's strategy, sets the provider's auth
     * header, observes the answer and retries once with another member after a 429 or 401.
     * Never follows a redirect to another origin; never returns, logs or throws a key.
     */
    fetch(service: string, url: string | URL, init?: RequestInit, options?: KeyFetchOptions): Promise<Response>
    /** Per-service, per-member calls, cool-downs and last reported quota: names and numbers, never values. */
    stats(): KeyStats
    /** A one-line safe hint for the key a name or service resolves to now (`openai, 51 chars, …wxyz`). */
    hint(nameOrService: string): string | undefined
    /** Canonical names served now, sorted. */
    names(): string[]
    /**
     * Counts changes of the effective key set: 0 before the source was first
     * read (environment variables only), +1 on every change, so a store opened
     * on an existing source starts at 1.
     */
    readonly generation: number
    /** The current generation as an immutable view. */
    view(): KeyView
    /** Source path, kind, watch mode and current problem. */
    readonly source: SourceStatus
    /**
     * The render served now: environment, agent, generation id (computed from the keys read,
     * `verified` when the source declared the same id) and since when. Undefined before the
     * source was read, or without a source.
     */
    readonly deployed: Deployed | undefined
    /** A node `http` request listener answering the status as JSON, or Prometheus text on a path ending in `/metrics` (docs/rotation.md). */
    statusHandler(): StatusHandler
    /**
     * Opens a status server (JSON at `/keyfleet/status` and `/`, Prometheus text at `/metrics`); closed with the store.
     * @throws Error when the port cannot be listened on (EADDRINUSE …); KeyfleetError `LOADER_ABORTED` after `close()`.
     */
    serveStatus(options?: ServeStatusOptions): Promise<StatusServer>
    /** The last completed live key check (`check` option), or undefined before one. */
    readonly lastCheck: CheckEvent | undefined
    /** Subscribes to an event; returns the unsubscribe function. */
    on<K extends keyof KeyStoreEvents>(event: K, listener: (payload: KeyStoreEvents[K]) => void): Unsubscribe
    /** Unsubscribes. */
    off<K extends keyof KeyStoreEvents>(event: K, listener: (payload: KeyStoreEvents[K]) => void): void
    /** Stops watching and polling and drops listeners; the last keys stay readable. Idempotent. */
    close(): Promise<void>
    /** `await using keys = await openKeys()` support: calls {@link KeyStore.close}. */
    [Symbol.asyncDispose](): Promise<void>
}
