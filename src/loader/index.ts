/**
 * `keyfleet/loader`: the runtime library agents import to read their API keys
 * from a mounted Secret volume, a dotenv/JSON file, a SOPS file or an
 * age-encrypted bundle, and to pick up rotated keys without a restart.
 *
 * Ships alone: imports node built-ins, the catalog, and (lazily, only for
 * encrypted sources) the age and native SOPS readers; never execa,
 * @actions/core or the CLI.
 *
 * @example
 *   import { openKeys } from 'keyfleet/loader'
 *   const keys = await openKeys({ path: '/var/run/keyfleet' })
 *   keys.on('change', ({ names, generation }) => console.log('rotated', names, generation))
 *   const apiKey = keys.require('claude')
 */
import { LoaderCode, loaderError } from './errors.js'
import { resolveOptions, type OpenKeysOptions } from './options.js'
import { LiveKeyStore } from './store.js'
import type { KeyStore } from './types.js'

export type { OpenKeysOptions } from './options.js'
export type { ChangeEvent, FallbackEvent, FailureOptions, KeyStore, KeyStoreEvents, KeyView, SourceStatus } from './types.js'
export type { KeyChoice } from './pool.js'
export type { SourceKind } from './read-source.js'
export type { BundleInfo } from './decrypt.js'
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
 * @throws KeyfleetError `LOADER_ABORTED` when `options.signal` is already aborted.
 */
export const openKeys = async (options: OpenKeysOptions = {}): Promise<KeyStore> => {
    if (options.signal?.aborted) throw loaderError(LoaderCode.ABORTED, 'openKeys was aborted before it started')
    const store = new LiveKeyStore(resolveOptions(options))
    await store.start()
    return store
}
