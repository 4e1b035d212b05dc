/**
 * The typed failures of native decryption. Every message names the file and
 * the tree path, never a value or its ciphertext: callers may print them.
 */
import { KeyfleetError } from '../../errors.js'

/** Stable codes thrown by `sops/native`. */
export type NativeErrorCode =
    | 'NATIVE_NO_MATCHING_IDENTITY'
    | 'NATIVE_MAC_MISMATCH'
    | 'NATIVE_MALFORMED'
    | 'NATIVE_UNSUPPORTED_KEY_SOURCE'
    | 'NATIVE_NOT_SOPS'

/** `a.b.c` for messages; `(root)` for the empty path. Keys are names, never values. */
export const describePath = (path: readonly string[]): string => (path.length === 0 ? '(root)' : path.join('.'))

/**
 * Builds a native error. `where` is the file (or `<input>`); `line` is 1-based when known.
 * The cause is deliberately never attached: third-party messages may quote input.
 */
export const nativeError = (code: NativeErrorCode, file: string | undefined, message: string, line?: number): KeyfleetError =>
    new KeyfleetError(code, `${file ?? '<input>'}${line === undefined ? '' : `:${line}`}: ${message}`, {
        ...(file === undefined ? {} : { file }),
        ...(line === undefined ? {} : { line }),
    })
