/**
 * Error codes the loader raises or reports through its `error` event.
 * Every message names a path, a key name or a line, never a value.
 */
import { KeyfleetError, type KeyfleetErrorOptions } from '../errors.js'

/** Stable codes of the loader (documented in docs/loader.md). */
export const LoaderCode = {
    /** `require()` found no value under any accepted name. */
    KEY_MISSING: 'LOADER_KEY_MISSING',
    /** The source path does not exist (yet); the store serves what it had. */
    SOURCE_MISSING: 'LOADER_SOURCE_MISSING',
    /** The source exists but cannot be read (EACCES after `chmod 000`, EIO, …). */
    SOURCE_UNREADABLE: 'LOADER_SOURCE_UNREADABLE',
    /** The source file is empty: usually a truncate-then-write editor mid-save. */
    SOURCE_EMPTY: 'LOADER_SOURCE_EMPTY',
    /** A dotenv or JSON source does not parse (often half-written). */
    PARSE_FAILED: 'LOADER_PARSE_FAILED',
    /** An encrypted source (SOPS or age bundle) could not be decrypted or failed its MAC. */
    DECRYPT_FAILED: 'LOADER_DECRYPT_FAILED',
    /** An encrypted source was found but no age identity was configured. */
    NO_IDENTITY: 'LOADER_NO_IDENTITY',
    /** Watching is impossible (ENOSPC/EMFILE from fs.watch): the store polls instead. */
    POLLING_FALLBACK: 'LOADER_POLLING_FALLBACK',
    /** The live check (`check` option): the provider rejected a key (401/403); the event names the key, never its value. */
    KEY_REJECTED: 'LOADER_KEY_REJECTED',
    /** The live check with `strict`: a key could not be checked (timeout, network error, 5xx). */
    KEY_UNVERIFIED: 'LOADER_KEY_UNVERIFIED',
    /** Remote source: the channel cannot be reached or answered badly (network error, timeout, 5xx, 404, truncated body); the last good keys stay. */
    REMOTE_UNAVAILABLE: 'LOADER_REMOTE_UNAVAILABLE',
    /** Remote source: the channel answered 429 or 503 with `Retry-After`; the next poll waits as long as it asks. */
    REMOTE_THROTTLED: 'LOADER_REMOTE_THROTTLED',
    /** Remote source: a redirect to another origin while a token is configured; refused, the token is never sent there. */
    REMOTE_REDIRECT: 'LOADER_REMOTE_REDIRECT',
    /** Remote source: the channel answered 401/403; check the token. */
    REMOTE_DENIED: 'LOADER_REMOTE_DENIED',
    /** Remote source options are incomplete or contradictory (no signing key, path and url both set, bad URL). */
    REMOTE_OPTIONS: 'LOADER_REMOTE_OPTIONS',
    /** A remote bundle carries no keyfleet signature envelope. */
    BUNDLE_UNSIGNED: 'LOADER_BUNDLE_UNSIGNED',
    /** A remote bundle's envelope is damaged (cut short, bad header). */
    BUNDLE_INVALID: 'LOADER_BUNDLE_INVALID',
    /** A remote bundle is signed by a key other than the pinned signing key. */
    BUNDLE_WRONG_SIGNER: 'LOADER_BUNDLE_WRONG_SIGNER',
    /** A remote bundle's signature does not match its content (tampered or re-headed). */
    BUNDLE_FORGED: 'LOADER_BUNDLE_FORGED',
    /** A remote bundle is for another agent or environment (or its payload disagrees with its signed header). */
    BUNDLE_MISMATCH: 'LOADER_BUNDLE_MISMATCH',
    /** A remote bundle is older than the one held (rollback or replay). */
    BUNDLE_ROLLBACK: 'LOADER_BUNDLE_ROLLBACK',
    /** Remote source: a verified bundle could not be applied (`agent sync` could not write `--out`); the last good keys stay and the next poll retries. */
    APPLY_FAILED: 'LOADER_APPLY_FAILED',
    /** `openKeys` was called with an already aborted signal. */
    ABORTED: 'LOADER_ABORTED',
} as const

/** One of {@link LoaderCode}'s values. */
export type LoaderCodeValue = typeof LoaderCode[keyof typeof LoaderCode]

/** Builds a loader error; a thin wrapper so every loader error carries the same shape. */
export const loaderError = (code: LoaderCodeValue, message: string, options: KeyfleetErrorOptions = {}): KeyfleetError =>
    new KeyfleetError(code, message, options)

/** The errno-style code of a Node system error, if any. */
export const errnoOf = (error: unknown): string | undefined => {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code === 'string' ? code : undefined
}

/**
 * A copy of a system error that keeps its code and syscall but not its
 * message: Node's messages carry paths only, but a cause we did not build
 * ourselves is replaced rather than trusted.
 */
export const systemCause = (error: unknown): Error => {
    const code = errnoOf(error) ?? 'UNKNOWN'
    const syscall = (error as { syscall?: unknown } | null)?.syscall
    return Object.assign(new Error(`${code}${typeof syscall === 'string' ? ` (${syscall})` : ''}`), { code })
}
