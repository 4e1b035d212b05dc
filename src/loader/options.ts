/**
 * Options of `openKeys` and their defaults. The loader is the one keyfleet
 * library that reads the environment by default: being configured by
 * `KEYFLEET_SECRETS_PATH` and overridden by real environment variables is its
 * documented contract. Pass `env` to make it read something else.
 */
// Direct module imports, not catalog/index.js: that re-exports the YAML catalog
// reader, and an agent bundle should not carry a YAML parser it never uses.
import { builtinCatalog } from '../catalog/builtin.js'
import { indexCatalog, type CatalogIndex } from '../catalog/resolve.js'
import type { Catalog } from '../catalog/types.js'
import type { LoaderCheckOptions } from './check.js'
import type { IdentitySource } from './decrypt.js'
import { LoaderCode, loaderError } from './errors.js'
import { nonEmpty, num as ms, resolveRemote, type RemoteSourceOptions, type ResolvedRemote } from './remote-options.js'
import type { EnvLike } from './snapshot.js'
import type { SelectionOptions } from './strategy.js'
import { nodeWatch, type WatchFunction } from './watch.js'

/** Options of {@link openKeys}. Every field is optional. */
export interface OpenKeysOptions extends RemoteSourceOptions {
    /**
     * The source: a Secret-volume directory, or a dotenv / JSON / SOPS / age-bundle file.
     * Default: `env.KEYFLEET_SECRETS_PATH`; with neither, the store serves environment variables only.
     */
    readonly path?: string | undefined
    /** Environment used for the path default, identity defaults and the env-var-wins precedence. Default `process.env`. */
    readonly env?: EnvLike | undefined
    /** Age identity text for encrypted sources. Default: `env.KEYFLEET_AGE_KEY`, then `env.SOPS_AGE_KEY`. */
    readonly identity?: string | undefined
    /** Age identity file for encrypted sources. Default: `env.KEYFLEET_AGE_KEY_FILE`, then `env.SOPS_AGE_KEY_FILE`. */
    readonly identityFile?: string | undefined
    /** Names, aliases, services and pools. Default: the built-in five providers. */
    readonly catalog?: Catalog | undefined
    /** Aborting closes the store; an already aborted signal makes `openKeys` reject with `LOADER_ABORTED`. */
    readonly signal?: AbortSignal | undefined
    /**
     * Trailing quiet time before a re-read, in ms. Default 0: events of one
     * burst are coalesced to the next event-loop turn (setImmediate). A longer
     * debounce buys nothing for correctness, since every read is compared and
     * a kubelet swap is one atomic rename; it only adds latency.
     */
    readonly debounceMs?: number | undefined
    /**
     * Poll interval in ms, used when watching is impossible (inotify limits,
     * `watch: false`), while the source is missing, and while it is bad. Default 1000.
     */
    readonly pollIntervalMs?: number | undefined
    /**
     * Settle time in ms, default 50; 0 turns both uses off. (1) Grace before a
     * source problem is reported: a truncate-then-write save is empty for a
     * moment, which is not worth an error event. (2) Stability check for
     * single-file sources (dotenv, JSON, SOPS, age): new content is served only
     * once the file has not changed for this long (its mtime is that old, or a
     * re-read after the rest of the time finds the same bytes, size and mtime),
     * so a prefix of an in-place write is never served. A change to a single
     * file therefore reaches `get()` about `settleMs` after its last write.
     * Directory sources (kubelet `..data` swaps are atomic) are not delayed.
     * The last good keys are served either way.
     */
    readonly settleMs?: number | undefined
    /** Directory watch function (tests inject failures); `false` polls only. Default: `fs.watch`. */
    readonly watch?: WatchFunction | false | undefined
    /**
     * After a polling fallback (ENOSPC/EMFILE), how often to try watching again:
     * first after `initialMs` (default 30 000), then doubling up to `maxMs`
     * (default 300 000), until a watch works (`watching` event) or the store is
     * closed. `false` polls for good after a fallback.
     */
    readonly rewatch?: RewatchOptions | false | undefined
    /**
     * Whether the open store keeps the process alive (its watches and poll
     * timers are referenced), as `fs.watch` does. Default true; `close()` releases it.
     */
    readonly persistent?: boolean | undefined
    /**
     * Live key check: once the first keys are served (and after each change with
     * `onChange`), try each provider key with its provider's cheapest
     * authenticated call. Results arrive as `check` events; a rejected key also
     * as an `error` event `LOADER_KEY_REJECTED`. Default: no check (and src/probe is not loaded).
     */
    readonly check?: LoaderCheckOptions | undefined
    /** How pools pick a member: strategy, per-service strategies, window, weights (docs/loader.md, "Usage-based selection"). Default round robin. */
    readonly selection?: SelectionOptions | undefined
    /**
     * Pools serve their newest member (the highest index: `OPENAI_API_KEY_2` over
     * `OPENAI_API_KEY`) while it is not cooling down, instead of rotating round robin; a
     * member reported failing falls back to the next older one. What `keyfleet rotate-key`
     * relies on: the new key is used first while the old one still works (docs/rotation.md).
     * A `selection` strategy, when given, decides instead. Default false.
     */
    readonly preferNewest?: boolean | undefined
}

/** The re-watch backoff schedule of {@link OpenKeysOptions.rewatch}. */
export interface RewatchOptions {
    /** Delay before the first attempt, in ms. Default 30 000 (minimum 10). */
    readonly initialMs?: number | undefined
    /** Cap of the doubling delay, in ms. Default 300 000 (never below `initialMs`). */
    readonly maxMs?: number | undefined
}

/** Options with every default applied. */
export interface ResolvedOptions {
    readonly path: string | undefined
    readonly env: EnvLike
    readonly identity: IdentitySource
    readonly index: CatalogIndex
    readonly signal: AbortSignal | undefined
    readonly debounceMs: number
    readonly pollIntervalMs: number
    readonly settleMs: number
    readonly watch: WatchFunction | false
    readonly rewatch: { readonly initialMs: number; readonly maxMs: number } | false
    readonly persistent: boolean
    /** The check options when a live check was asked for (`live: true`), else undefined. */
    readonly check: LoaderCheckOptions | undefined
    /** The remote source (`url` / `KEYFLEET_SECRETS_URL`), else undefined. */
    readonly remote: ResolvedRemote | undefined
    readonly selection: SelectionOptions | undefined
    readonly preferNewest: boolean
}


const resolveRewatch = (rewatch: RewatchOptions | false | undefined): ResolvedOptions['rewatch'] => {
    if (rewatch === false) return false
    const initialMs = ms(rewatch?.initialMs, 30_000, 10)
    return { initialMs, maxMs: Math.max(initialMs, ms(rewatch?.maxMs, 300_000, initialMs)) }
}

/** Applies the defaults of {@link OpenKeysOptions}. */
export const resolveOptions = (options: OpenKeysOptions): ResolvedOptions => {
    const env = options.env ?? process.env
    const identity = nonEmpty(options.identity)
    const identityFile = nonEmpty(options.identityFile)
    const fromEnv: IdentitySource = identity !== undefined || identityFile !== undefined
        ? { identity, identityFile }
        : {
            identity: nonEmpty(env.KEYFLEET_AGE_KEY) ?? nonEmpty(env.SOPS_AGE_KEY),
            identityFile: nonEmpty(env.KEYFLEET_AGE_KEY_FILE) ?? nonEmpty(env.SOPS_AGE_KEY_FILE),
        }
    // An explicit option beats the environment; two explicit (or two environment) sources are a mistake.
    const explicitPath = nonEmpty(options.path)
    const explicitUrl = nonEmpty(options.url)
    if (explicitPath !== undefined && explicitUrl !== undefined) throw loaderError(LoaderCode.REMOTE_OPTIONS, 'pass either path or url to openKeys, not both')
    const remote = explicitPath === undefined ? resolveRemote(options, env) : undefined
    const path = remote !== undefined ? undefined : explicitPath ?? nonEmpty(env.KEYFLEET_SECRETS_PATH)
    if (remote !== undefined && explicitUrl === undefined && nonEmpty(env.KEYFLEET_SECRETS_PATH) !== undefined) {
        throw loaderError(LoaderCode.REMOTE_OPTIONS, 'both KEYFLEET_SECRETS_PATH and KEYFLEET_SECRETS_URL are set; set one')
    }
    return {
        path,
        remote,
        env,
        identity: fromEnv,
        index: indexCatalog(options.catalog ?? builtinCatalog),
        signal: options.signal,
        debounceMs: ms(options.debounceMs, 0, 0),
        pollIntervalMs: ms(options.pollIntervalMs, 1000, 10),
        settleMs: ms(options.settleMs, 50, 0),
        watch: options.watch === undefined ? nodeWatch(options.persistent ?? true) : options.watch,
        rewatch: resolveRewatch(options.rewatch),
        persistent: options.persistent ?? true,
        check: options.check?.live === true ? options.check : undefined,
        selection: options.selection,
        preferNewest: options.preferNewest === true,
    }
}
