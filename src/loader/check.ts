/**
 * The optional live key check of the loader (`openKeys({ check })`): once the
 * first snapshot is served (and, with `onChange`, after every change), each
 * provider key is tried with its provider's cheapest authenticated call
 * (src/probe). Results are reported as events carrying names, statuses and
 * hints, never values.
 *
 * src/probe is imported lazily, only when `check` is set, so an agent that
 * does not ask for checks loads none of it. It depends on the catalog, the
 * error type and Node built-ins (the global fetch) only.
 */
import type { Catalog } from '../catalog/types.js'
import { KeyfleetError, isKeyfleetError } from '../errors.js'
import type { FetchLike, ProbeKeysOptions, ProbeResult } from '../probe/types.js'
import { LoaderCode, loaderError } from './errors.js'
import type { CheckEvent, KeyCheckResult } from './types.js'

/** The `check` option of `openKeys`. */
export interface LoaderCheckOptions {
    /** Ask the providers. `false` turns the check off (handy when it comes from a flag). */
    readonly live: boolean
    /** Base URL per service (`openai`) or name (`OPENAI_API_KEY`): a gateway or proxy; https, or http on loopback. */
    readonly baseUrls?: Readonly<Record<string, string>> | undefined
    /** Per-request timeout in ms. Default 10 000. */
    readonly timeoutMs?: number | undefined
    /** Total time for one check of all keys, in ms; keys unfinished by then are `unknown`. Default 60 000. */
    readonly deadlineMs?: number | undefined
    /** Probes in flight at most. Default 4. */
    readonly concurrency?: number | undefined
    /** Extra attempts after an `unknown` answer (timeout, network error, 5xx). Default 2. */
    readonly retries?: number | undefined
    /** A key that could not be checked (`unknown`) is reported as an `error` event too (`LOADER_KEY_UNVERIFIED`). Default false. */
    readonly strict?: boolean | undefined
    /** Check again after every change of the key set, not only at start. Default false. */
    readonly onChange?: boolean | undefined
    /** Replaces the global fetch (tests, custom agents or proxies). */
    readonly fetch?: FetchLike | undefined
}

/** What the checker needs from its store. */
export interface CheckHost {
    /** The generation and effective values served now. */
    readonly current: () => { readonly generation: number; readonly values: ReadonlyMap<string, string> }
    readonly emitCheck: (event: CheckEvent) => void
    readonly emitError: (error: KeyfleetError) => void
    /** The provider rejected `value` under `name`: take it out of its pool if it is still served. */
    readonly rejected: (name: string, value: string) => void
}

type ProbeModule = typeof import('../probe/check.js')

let probeModule: Promise<ProbeModule> | undefined
const loadProbe = (): Promise<ProbeModule> => (probeModule ??= import('../probe/check.js'))

const probeOptions = (options: LoaderCheckOptions, signal?: AbortSignal): ProbeKeysOptions => ({
    ...(options.baseUrls === undefined ? {} : { baseUrls: options.baseUrls }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(signal === undefined ? {} : { signal }),
})

/**
 * Loads src/probe and checks the options (base URLs, numbers) without sending
 * anything, so a misconfigured check fails `openKeys` instead of every probe.
 * @throws KeyfleetError `PROBE_BASE_URL_INVALID`, `PROBE_UNKNOWN_PROVIDER`, `PROBE_OPTION_INVALID`.
 */
export const prepareCheck = async (options: LoaderCheckOptions, catalog: Catalog): Promise<void> => {
    const { probeKeys } = await loadProbe()
    await probeKeys(new Map(), catalog, probeOptions(options))
}

// A fresh object per result: only these fields, whatever the probe adds later.
const publicResult = (r: ProbeResult): KeyCheckResult => Object.freeze({
    name: r.name, service: r.service, status: r.status,
    ...(r.httpStatus === undefined ? {} : { httpStatus: r.httpStatus }),
    detail: r.detail, hint: r.hint, ms: r.ms,
})

/** Runs checks one at a time; a request while one runs queues exactly one more. */
export class KeyChecker {
    readonly #options: LoaderCheckOptions
    readonly #catalog: Catalog
    readonly #host: CheckHost
    readonly #abort = new AbortController()
    #running = false
    #pending = false
    #closed = false
    #last: CheckEvent | undefined

    constructor(options: LoaderCheckOptions, catalog: Catalog, host: CheckHost) {
        this.#options = options
        this.#catalog = catalog
        this.#host = host
    }

    /** The last completed check, if any. */
    get last(): CheckEvent | undefined {
        return this.#last
    }

    /**
     * Checks the keys served now, on the next turn of the event loop (so a
     * caller that just received the store can subscribe to `check` first).
     */
    request(): void {
        if (this.#closed) return
        if (this.#running) { this.#pending = true; return }
        this.#running = true
        setImmediate(() => { void this.#run() })
    }

    /** Cancels a running check; no events follow. */
    close(): void {
        this.#closed = true
        this.#abort.abort()
    }

    async #run(): Promise<void> {
        try {
            do {
                this.#pending = false
                await this.#once()
            } while (this.#pending && !this.#closed)
        } finally {
            this.#running = false
        }
    }

    async #once(): Promise<void> {
        if (this.#closed) return
        const { generation, values } = this.#host.current()
        let results: ProbeResult[]
        try {
            const { probeKeys } = await loadProbe()
            results = await probeKeys(values, this.#catalog, probeOptions(this.#options, this.#abort.signal))
        } catch (error) {
            if (!this.#closed) {
                this.#host.emitError(isKeyfleetError(error)
                    ? error
                    : new KeyfleetError('LOADER_INTERNAL', 'unexpected failure while checking the keys with their providers (please report this)'))
            }
            return
        }
        if (this.#closed) return
        for (const r of results) {
            const value = values.get(r.name)
            if (r.status === 'invalid' && value !== undefined) this.#host.rejected(r.name, value)
        }
        const event: CheckEvent = Object.freeze({ generation, results: Object.freeze(results.map(publicResult)) })
        this.#last = event
        this.#host.emitCheck(event)
        for (const r of results) {
            if (r.status === 'invalid') {
                this.#host.emitError(loaderError(LoaderCode.KEY_REJECTED,
                    `${r.name} (${r.hint}) was rejected by ${r.service}: ${r.detail}. The key is revoked, mistyped or belongs to another account: rotate it in the environment's secrets (in a pool, it sits out until then)`))
            } else if (r.status === 'unknown' && this.#options.strict === true) {
                this.#host.emitError(loaderError(LoaderCode.KEY_UNVERIFIED,
                    `${r.name} (${r.hint}) could not be checked with ${r.service}: ${r.detail}. Check the network or the base URL`))
            }
        }
    }
}
