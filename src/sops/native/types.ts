/**
 * The public shapes of native SOPS decryption. Other modules (validate,
 * loader) code against exactly these; see docs/native-decryption.md.
 */

/** A SOPS store: how the file is laid out on disk. */
export type StoreKind = 'dotenv' | 'yaml' | 'json' | 'binary'

/** One age entry of the `sops` metadata: the data key wrapped for one recipient. */
export interface AgeStanza {
    /** The recipient, `age1…` or `age1pq1…`. */
    readonly recipient: string
    /** The armored age file holding the 32-byte data key, with real newlines (dotenv `\n` escapes undone). */
    readonly enc: string
}

/** Which rule decides what sops encrypted (exactly one is in force; sops defaults to `unencrypted_suffix: _unencrypted`). */
export interface SelectionRule {
    readonly kind: 'unencrypted_suffix' | 'encrypted_suffix' | 'unencrypted_regex' | 'encrypted_regex' | 'unencrypted_comment_regex' | 'encrypted_comment_regex'
    readonly value: string
}

/** The `sops` block of a file, readable without any key. */
export interface SopsMetadata {
    readonly version: string
    /** As written, e.g. `2026-05-22T20:16:23Z`. */
    readonly lastmodified: string
    /** The encrypted MAC as written (`ENC[…]`). */
    readonly mac: string
    readonly age: readonly AgeStanza[]
    /** Key sources other than age present in the file, e.g. `['pgp', 'kms']`. */
    readonly otherKeySources: readonly string[]
    /** The selection rule as written; `undefined` when the file names none (sops then uses `unencrypted_suffix: _unencrypted`). */
    readonly selection: SelectionRule | undefined
    readonly macOnlyEncrypted: boolean
}

/** One value of the document, as stored (comments and nulls are not leaves). */
export interface SopsLeaf {
    /** Map keys from the root; list items add no component (as in sops' AAD). */
    readonly path: readonly string[]
    /** The `ENC[…]` text, or the plaintext scalar as written. */
    readonly raw: string
    /** Whether the selection rule says this value is encrypted. */
    readonly encrypted: boolean
    /** 1-based line in the file, when known. */
    readonly line: number | undefined
}

/** The result of the key-less parse. */
export interface ParsedSopsFile {
    readonly store: StoreKind
    readonly metadata: SopsMetadata
    readonly leaves: readonly SopsLeaf[]
}

/** A decrypted, MAC-verified value. */
export interface DecryptedEntry {
    readonly path: readonly string[]
    readonly value: string | number | boolean | null
}

/** A decrypted, MAC-verified file. */
export interface DecryptedFile {
    readonly store: StoreKind
    readonly metadata: SopsMetadata
    /** Every value in document order; comments excluded. */
    readonly entries: readonly DecryptedEntry[]
    /** The plaintext document without the sops block (yaml/json: plain objects/arrays; dotenv: an ordered object; binary: the string). */
    readonly tree: unknown
    /** dotenv: NAME → value in file order; yaml/json: top-level scalar keys → String(value); binary: `data`. */
    toEnvMap(): Map<string, string>
}
