/**
 * A line reader for SOPS dotenv files that works without the SOPS parser, so
 * plaintext values are still located (by line) in files the parser rejects.
 * It follows sops' own dotenv rules: split at the first `=`, no quoting,
 * `#` lines are comments, empty lines are ignored.
 */
import { parseEncValue } from '../sops/native/enc-value.js'

/** One `NAME=value` line. */
export interface DotenvLine {
    readonly name: string
    /** The raw value text after the first `=`; may be a secret: never print it. */
    readonly value: string
    /** 1-based line number. */
    readonly line: number
}

/** sops' default unencrypted suffix: values of such names are plaintext by design. */
export const UNENCRYPTED_SUFFIX = '_unencrypted'

/**
 * Whether a dotenv value is a well-formed SOPS ciphertext, checked without a
 * key by the native parser's own value parser:
 * `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` with canonical base64, a 32-byte IV, a 16-byte tag and a
 * known type. Merely wrapping text in `ENC[...]` does not pass: a plaintext
 * key inside such a wrapper must still be reported.
 */
export const isEncryptedValue = (value: string): boolean => parseEncValue(value) !== undefined

/** Whether a value is wrapped in `ENC[...]` (well-formed or not): such a value is reported as a malformed ciphertext. */
export const looksLikeEncValue = (value: string): boolean => value.startsWith('ENC[') && value.endsWith(']')

/** Whether `name` is one of the `sops_*` metadata keys. */
export const isMetadataName = (name: string): boolean => name.startsWith('sops_')

/** Every `NAME=value` line of `text`, metadata included, comments and blanks excluded. */
export const readDotenvLines = (text: string): DotenvLine[] => {
    const out: DotenvLine[] = []
    text.split(/\r?\n/).forEach((raw, i) => {
        if (raw.trim() === '' || raw.startsWith('#')) return
        const eq = raw.indexOf('=')
        out.push(eq < 0 ? { name: raw, value: '', line: i + 1 } : { name: raw.slice(0, eq), value: raw.slice(eq + 1), line: i + 1 })
    })
    return out
}
