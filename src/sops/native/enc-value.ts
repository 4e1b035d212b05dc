/**
 * sops' value cipher: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` with a
 * 32-byte IV and AAD = the tree path joined with `:` plus a trailing colon.
 * Parsing here is stricter than sops (canonical base64, 16-byte tag, known
 * type) so that a mutated value can never decode to the same bytes.
 */
import { isUtf8 } from 'node:buffer'
import { createDecipheriv } from 'node:crypto'
import type { Scalar } from './tree.js'
import { formatFloatF, formatRfc3339Nano, parseGoBool, parseGoFloat, parseGoInt, parseRfc3339 } from './go-values.js'

/** The types sops writes into `type:`. */
export type EncType = 'str' | 'int' | 'float' | 'bool' | 'time' | 'comment' | 'bytes'

/** A parsed, not yet decrypted value. */
export interface EncValue { readonly data: Buffer; readonly iv: Buffer; readonly tag: Buffer; readonly type: EncType }

const ENC = /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]+),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:(str|int|float|bool|time|comment|bytes)\]$/

/** Whether `text` has the shape of an encrypted value (used to tell old plaintext comments apart). */
export const looksEncrypted = (text: string): boolean => text.startsWith('ENC[AES256_GCM,')

// Buffer.from(…, 'base64') skips bad characters silently; only canonical padded base64 is accepted here.
const strictBase64 = (text: string): Buffer | undefined => {
    if (text.length % 4 !== 0) return undefined
    const bytes = Buffer.from(text, 'base64')
    return bytes.toString('base64') === text ? bytes : undefined
}

/**
 * Parses an `ENC[…]` string.
 * @returns undefined when the text is not a well-formed encrypted value (callers raise NATIVE_MALFORMED with the path).
 */
export const parseEncValue = (text: string): EncValue | undefined => {
    const m = ENC.exec(text)
    if (!m) return undefined
    const data = strictBase64(m[1] as string)
    const iv = strictBase64(m[2] as string)
    const tag = strictBase64(m[3] as string)
    if (!data || !iv || !tag || iv.length !== 32 || tag.length !== 16) return undefined
    return { data, iv, tag, type: m[4] as EncType }
}

/**
 * AES-GCM open (AES-256 for the 32-byte keys sops writes; AES-128/192 for a 16/24-byte data key, which sops'
 * crypto/aes.NewCipher takes too, whatever the `AES256_GCM` label says). Node accepts sops' 32-byte IV (GCM
 * hashes non-96-bit IVs with GHASH, as Go does).
 * @returns the plaintext, or undefined when authentication fails (wrong key, path or any flipped byte).
 */
export const openValue = (value: EncValue, key: Uint8Array, aad: string): Buffer | undefined => {
    try {
        const decipher = createDecipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, value.iv, { authTagLength: 16 })
        decipher.setAAD(Buffer.from(aad, 'utf8'))
        decipher.setAuthTag(value.tag)
        return Buffer.concat([decipher.update(value.data), decipher.final()])
    } catch {
        return undefined
    }
}

/**
 * Turns decrypted bytes into sops' typed value, as aes/cipher.go Decrypt does.
 * @returns undefined when the text does not parse as its declared type.
 */
export const typedFromPlaintext = (type: EncType, plain: Buffer): Scalar | undefined => {
    const text = plain.toString('utf8')
    switch (type) {
        // Go strings are bytes: keep them when they are not UTF-8, so the MAC and binary output see what sops sees.
        case 'str': return isUtf8(plain) ? { type: 'str', value: text } : { type: 'str', value: text, bytes: Buffer.from(plain) }
        case 'comment': return isUtf8(plain) ? { type: 'comment', value: text } : { type: 'comment', value: text, bytes: Buffer.from(plain) }
        // sops 3.13.2 panics on `type:bytes` (a []byte cannot key its IV stash): it never decrypts such a value.
        case 'bytes': return undefined
        case 'int': { const v = parseGoInt(text); return v === undefined ? undefined : { type: 'int', value: v } }
        case 'float': { const v = parseGoFloat(text); return v === undefined ? undefined : { type: 'float', value: v } }
        case 'bool': { const v = parseGoBool(text); return v === undefined ? undefined : { type: 'bool', value: v } }
        case 'time': { const t = parseRfc3339(text); return t === undefined ? undefined : { type: 'time', text: formatRfc3339Nano(t) } }
    }
}

/** sops' `ToBytes`: the bytes a value contributes to the MAC. Null contributes nothing (it is never walked). */
export const macBytes = (scalar: Scalar): string | Buffer => {
    switch (scalar.type) {
        case 'str': return scalar.bytes ?? scalar.value
        case 'comment': return scalar.bytes ?? scalar.value
        case 'int': return scalar.value.toString()
        case 'float': return formatFloatF(scalar.value)
        case 'bool': return scalar.value ? 'True' : 'False'
        case 'time': return scalar.text
        case 'null': return ''
    }
}
