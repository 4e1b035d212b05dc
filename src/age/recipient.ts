/**
 * age recipient strings: what `.sops.yaml`, deployment.yaml and the CLI accept.
 * A recipient is the bech32 encoding (classic bech32, no length limit: age's
 * internal/bech32) of the public key under HRP `age` (X25519, 32 bytes) or
 * `age1pq` (ML-KEM-768 + X25519 hybrid, 1216 bytes); the checksum catches any
 * one changed character, so a typo fails the PR check rather than the deploy.
 * Whether the key is on the curve is checked by age-encryption when it is used.
 */
import { bech32 } from '@scure/base'
import { KeyfleetError } from '../errors.js'

// Lowercase only (what age-keygen prints), data in the bech32 charset; the checksum is checked after.
const X25519 = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/
const HYBRID = /^age1pq1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{1000,3000}$/
const KEY_BYTES = { x25519: 32, hybrid: 1216 } as const
const HRP = { x25519: 'age', hybrid: 'age1pq' } as const

/** Decoded public key length when `value` is a well-formed bech32 string with `hrp`, else undefined. */
const decodedLength = (value: string, hrp: string): number | undefined => {
    try {
        // `false`: no 90-character limit (age's hybrid recipients are 1959 characters).
        const { prefix, words } = bech32.decode(value as `${string}1${string}`, false)
        return prefix === hrp ? bech32.fromWords(words).length : undefined
    } catch {
        return undefined
    }
}

/** The kind of a recipient string, or undefined when it is not one keyfleet accepts (checksum included). */
export const recipientKind = (value: string): 'x25519' | 'hybrid' | undefined => {
    const kind = X25519.test(value) ? 'x25519' : HYBRID.test(value) ? 'hybrid' : undefined
    return kind !== undefined && decodedLength(value, HRP[kind]) === KEY_BYTES[kind] ? kind : undefined
}

/** True for `age1…` (X25519) and `age1pq1…` (ML-KEM-768 hybrid) recipients. */
export const isRecipient = (value: string): boolean => recipientKind(value) !== undefined

/**
 * Throws unless `value` is a recipient.
 * @param where - what the value is, for the message (e.g. `--recipient`).
 * @throws KeyfleetError `AGE_BAD_RECIPIENT`
 */
export const assertRecipient = (value: string, where: string): void => {
    if (isRecipient(value)) return
    // A secret key pasted by mistake must not be echoed back.
    const shown = value.startsWith('AGE-SECRET-KEY') ? '(an age SECRET key; never share it, pass its public key)' : `"${value.slice(0, 12)}${value.length > 12 ? '…' : ''}"`
    throw new KeyfleetError('AGE_BAD_RECIPIENT', `${where}: ${shown} is not an age recipient; expected age1… as \`keyfleet keygen\` prints it (its checksum catches a mistyped, missing or swapped character: copy it again)`)
}

/** Shortened form for tables: `age1abcd…wxyz`. */
export const shortRecipient = (value: string): string =>
    value.length > 20 ? `${value.slice(0, value.startsWith('age1pq1') ? 11 : 8)}…${value.slice(-6)}` : value
