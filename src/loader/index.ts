/**
 * `keyfleet/loader`: the runtime library agents import to read their API keys
 * from a mounted Secret volume, a dotenv/JSON file, a SOPS file or an
 * age-encrypted bundle, and to pick up rotated keys without a restart.
 *
 * Ships alone: imports node built-ins, the catalog, (lazily, only for
 * encrypted sources) the age and native SOPS readers, and (lazily, only with
 * the `check` option) the live key probes of src/probe; never execa,
 * `@actions/core` or the CLI.
 *
 * @example
 * ```ts
 * import { openKeys } from 'keyfleet/loader'
 * const keys = await openKeys({ path: '/var/run/keyfleet' })
 * keys.on('change', ({ names, generation }) => console.log('rotated', names, generation))
 * const apiKey = keys.require('claude')
 * ```
 */
import { prepareCheck } from './check.js'
import { LoaderCode, loaderError } from './errors.js'
import { resolveOptions, type OpenKeysOptions } from './options.js'
import { LiveKeyStore } from './store.js'
import type { KeyStore } from './types.js'

export type { OpenKeysOptions, RewatchOptions } from './options.js'
export type { LoaderCheckOptions } from './check.js'
export type { CheckEvent, KeyCheckResult, ChangeEvent, FallbackEvent, FailureOptions, WatchingEvent, KeyStore, KeyStoreEvents, KeyView, SourceStatus } from './types.js'
export type { KeyChoice } from './pool.js'
export type { SelectionOptions, StrategyName, WeightSource } from './strategy.js'
export type { KeyFetchOptions } from './fetch.js'
export type { HeadersLike, RateLimitInfo } from './rate-limit-headers.js'
export type { KeyStats, MemberStats, ServiceStats } from './usage.js'
export type { SourceKind } from './read-source.js'
export type { BundleInfo } from './decrypt.js'
export type { Deployed } from './deployed.js'
export type { ServeStatusOptions, StatusHandler, StatusReport, StatusServer } from './status.js'
export { DEFAULT_STATUS_PORT, STATUS_FORMAT, STATUS_PATH, METRICS_PATH } from './status.js'
export type { WatchFunction, WatchHandle } from './watch.js'
export type { Unsubscribe } from './emitter.js'
export { LoaderCode } from './errors.js'
export { KeyfleetError, isKeyfleetError } from '../errors.js'

/**
 * Opens a live key store.
 *
 * Resolves once the first read is done. A source that does not exist yet is
 * not an error: the store resolves empty (environment variables still apply),
 * reports `LOADER_SOURCE_MISSING` through `error`, waits for the path, and
 * emits `change` when it appears. A source that is present but bad (unreadable,
 * half-written, failing its MAC) likewise resolves with what the environment
 * provides and reports through `error` and `store.source.problem`.
 *
 * With `check: { live: true, … }` the provider keys are also tried once the
 * first keys are served (see docs/loader.md, "Live key check"); results
 * arrive as `check` events after `openKeys` resolves.
 *
 * With `url` (or `KEYFLEET_SECRETS_URL`) the source is a signed bundle pulled over HTTP(S)
 * (see docs/loader.md, "Remote source"); it resolves after the first poll, serving the
 * verified cache when the channel cannot be reached.
 *
 * @throws KeyfleetError `LOADER_ABORTED` when `options.signal` is already aborted;
 *   `LOADER_REMOTE_OPTIONS` for a bad URL, no signing key, or both `path` and `url`;
 *   `PROBE_BASE_URL_INVALID`, `PROBE_UNKNOWN_PROVIDER`, `PROBE_OPTION_INVALID`
 *   for a bad `check` option (nothing is sent then).
 */
export const openKeys = async (options: OpenKeysOptions = {}): Promise<KeyStore> => {
    if (options.signal?.aborted) throw loaderError(LoaderCode.ABORTED, 'openKeys was aborted before it started')
    const resolved = resolveOptions(options)
    // Loads src/probe only when asked, and refuses a bad base URL before any key is read.
    if (resolved.check) await prepareCheck(resolved.check, resolved.index.catalog)
    const store = new LiveKeyStore(resolved)
    await store.start()
    return store
}
