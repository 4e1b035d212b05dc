/**
 * Probing a set of keys (one environment, or the keys an agent loaded): which
 * keys are probed at all, a concurrency limit and a total deadline.
 */
// Single catalog modules, not catalog/index.js, which re-exports the YAML catalog reader: the loader imports this.
import { formatHint, keyHint } from '../catalog/hint.js'
import { isPlaceholder } from '../catalog/placeholder.js'
import { resolveStored } from '../catalog/region.js'
import { indexCatalog } from '../catalog/resolve.js'
import type { Catalog } from '../catalog/types.js'
import { KeyfleetError } from '../errors.js'
import { probeKey, PROBE_DEFAULTS } from './probe-key.js'
import { DEADLINE_REASON } from './request.js'
import type { ProbeKeysOptions, ProbeResult } from './types.js'
import { regionalTarget } from './regional.js'
import { assertCatalogOrigin, probeUrl } from './url.js'

/** Batch defaults (per-key ones are in PROBE_DEFAULTS). */
export const BATCH_DEFAULTS = { concurrency: 4, deadlineMs: 60_000 } as const

/** Options of {@link checkEnvironment}. */
export interface CheckEnvironmentOptions extends ProbeKeysOptions {
    /** The environment the values belong to (kept for the caller's reports). */
    readonly env: string
    /** NAME → value, as decrypted. */
    readonly values: ReadonlyMap<string, string>
    readonly catalog: Catalog
}

const positive = (value: number | undefined, fallback: number, what: string): number => {
    const n = value ?? fallback
    if (!Number.isFinite(n) || n <= 0) throw new KeyfleetError('PROBE_OPTION_INVALID', `${what} must be a positive number (got ${String(value)})`)
    return n
}

/**
 * Probes every value whose name the catalog gives a probe, in input order.
 * Not sent (result `skipped`): names the catalog does not know, secrets
 * without a probe (custom), placeholders, and values failing their provider's
 * format rule (such a value may be another provider's key) unless
 * `probeMalformed`. Keys still unfinished at the total deadline, or when
 * `signal` aborts, are `unknown`.
 * Never prints, never reads process.env; depends on the catalog and node built-ins only.
 * @throws KeyfleetError `PROBE_BASE_URL_INVALID`, `PROBE_UNKNOWN_PROVIDER` (a base-URL override names no
 *   catalog provider), `PROBE_OPTION_INVALID`, all before any request.
 */
export const probeKeys = async (values: ReadonlyMap<string, string>, catalog: Catalog, options: ProbeKeysOptions = {}): Promise<ProbeResult[]> => {
    const index = indexCatalog(catalog)
    const concurrency = Math.floor(positive(options.concurrency, BATCH_DEFAULTS.concurrency, 'concurrency'))
    const deadlineMs = positive(options.deadlineMs, BATCH_DEFAULTS.deadlineMs, 'the total deadline')
    positive(options.timeoutMs, PROBE_DEFAULTS.timeoutMs, 'the request timeout')
    // Overrides keyed by service; checked up front so a typo fails before any key is sent.
    const overrides = new Map<string, string>()
    for (const [provider, url] of Object.entries(options.baseUrls ?? {})) {
        const spec = index.resolve(provider)?.spec
        if (!spec?.probe) {
            const known = catalog.secrets.filter((s) => s.probe).map((s) => s.service).join(', ')
            throw new KeyfleetError('PROBE_UNKNOWN_PROVIDER', `--base-url names "${provider.slice(0, 40)}", which is no provider with a probe; use one of ${known}`)
        }
        probeUrl(url, spec.probe.path)
        overrides.set(spec.service, url)
    }
    // Every catalog origin a key would go to is checked before the first request (a batch never half-sends).
    for (const name of values.keys()) {
        const spec = resolveStored(index, name)?.spec
        if (spec?.probe && !overrides.has(spec.service)) assertCatalogOrigin(spec, options.allowedOrigins ?? [])
    }

    const entries = [...values]
    const results: ProbeResult[] = new Array<ProbeResult>(entries.length)
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(DEADLINE_REASON), deadlineMs)
    const cancel = (): void => deadline.abort(options.signal?.reason)
    if (options.signal?.aborted) cancel()
    else options.signal?.addEventListener('abort', cancel, { once: true })

    const probeOne = async (name: string, value: string): Promise<ProbeResult> => {
        const resolved = resolveStored(index, name)
        const skipped = (detail: string, service = resolved?.spec.service ?? 'custom'): ProbeResult =>
            ({ name, service, status: 'skipped', detail, hint: formatHint(keyHint(name, value, index)), ms: 0 })
        if (!resolved) return skipped('not in the catalog; not probed')
        const { spec } = resolved
        if (!spec.probe) return skipped('the catalog has no probe for it')
        if (isPlaceholder(value)) return skipped('a placeholder, not a key; not sent')
        if (spec.format && !spec.format.test(value) && options.probeMalformed !== true) {
            return skipped(`does not match the ${spec.title} key format; not sent (it may be another provider's key)`)
        }
        if (deadline.signal.aborted) {
            const why = deadline.signal.reason === DEADLINE_REASON ? `the total deadline of ${deadlineMs} ms was reached` : 'the check was cancelled'
            return { name, service: spec.service, status: 'unknown', detail: `not probed: ${why}`, hint: formatHint(keyHint(name, value, index)), ms: 0 }
        }
        // A regional variant goes to its region's endpoint only where the operator trusts that origin.
        const regional = resolved.region === undefined || overrides.has(spec.service) ? undefined
            : regionalTarget(spec, resolved.region, options.regionBaseUrls, options.allowedOrigins ?? [])
        const baseUrl = overrides.get(spec.service) ?? regional?.baseUrl
        const result = await probeKey(spec, value, {
            ...options, name, signal: deadline.signal, ...(baseUrl === undefined ? {} : { baseUrl }),
        })
        return regional === undefined ? result : { ...result, detail: `${result.detail}${regional.note}` }
    }

    let next = 0
    let done = 0
    const worker = async (): Promise<void> => {
        for (;;) {
            const i = next++
            const entry = entries[i]
            if (entry === undefined) return
            const result = await probeOne(entry[0], entry[1])
            results[i] = result
            done++
            options.onProgress?.({ done, total: entries.length, result })
        }
    }
    try {
        await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, entries.length)) }, worker))
    } finally {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', cancel)
    }
    return results
}

/**
 * Probes one environment's decrypted values; see {@link probeKeys} for what is
 * sent and the defaults. Results are in the order of `values`.
 * @throws KeyfleetError as {@link probeKeys}.
 */
export const checkEnvironment = async (options: CheckEnvironmentOptions): Promise<ProbeResult[]> => {
    const { env: _env, values, catalog, ...rest } = options
    return probeKeys(values, catalog, rest)
}
