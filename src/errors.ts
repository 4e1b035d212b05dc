/**
 * The one error type every keyfleet module throws.
 *
 * A `KeyfleetError` carries a stable, machine-readable `code` (documented in
 * docs/errors.md; never renamed once released), a message that tells the user
 * what to do, and optionally the underlying `cause`. Messages and causes must
 * never contain a secret value or its ciphertext: callers build them from
 * names, paths and codes only.
 *
 * This module has no dependencies so that the loader can ship with it.
 */

const brand = Symbol.for('keyfleet.error')

/** Options accepted by {@link KeyfleetError}. */
export interface KeyfleetErrorOptions {
    /** The error that led to this one. Must itself be free of secret values. */
    cause?: unknown
    /** The file the error is about, when there is one. */
    file?: string
    /** 1-based line in `file`, when known. */
    line?: number
}

/**
 * A typed keyfleet failure with a stable `code`.
 *
 * @example
 *   throw new KeyfleetError('SOPS_MAC_MISMATCH', 'environments/prod/env.secrets failed its MAC check: ...')
 */
export class KeyfleetError extends Error {
    /** Stable code, e.g. `SOPS_MAC_MISMATCH`. */
    readonly code: string
    /** The file the error concerns, if any. */
    readonly file: string | undefined
    /** 1-based line within `file`, if known. */
    readonly line: number | undefined

    constructor(code: string, message: string, options: KeyfleetErrorOptions = {}) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause })
        this.code = code
        this.file = options.file
        this.line = options.line
        Object.defineProperty(this, 'name', { value: 'KeyfleetError', enumerable: false })
        Object.defineProperty(this, brand, { value: true, enumerable: false })
    }
}

/**
 * Whether `value` is a {@link KeyfleetError}, also across module copies
 * (a bundled action and the package can each hold their own class).
 */
export const isKeyfleetError = (value: unknown): value is KeyfleetError =>
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
