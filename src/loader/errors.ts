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
