/**
 * age recipient strings: what `.sops.yaml`, deployment.yaml and the CLI accept.
 * Syntax only (bech32 charset and length); whether the key is on the curve is
 * checked by age-encryption when the recipient is used.
 */
import { KeyfleetError } from '../errors.js'

// bech32: lowercase HRP, separator `1`, data in the 32-character charset.
const X25519 = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/
const HYBRID = /^age1pq1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{1000,3000}$/

/** The kind of a recipient string, or undefined when it is not one keyfleet accepts. */
export const recipientKind = (value: string): 'x25519' | 'hybrid' | undefined =>
    X25519.test(value) ? 'x25519' : HYBRID.test(value) ? 'hybrid' : undefined

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
    throw new KeyfleetError('AGE_BAD_RECIPIENT', `${where}: ${shown} is not an age recipient; expected age1… (see \`keyfleet keygen\`)`)
}

/** Shortened form for tables: `age1abcd…wxyz`. */
export const shortRecipient = (value: string): string =>
    value.length > 20 ? `${value.slice(0, value.startsWith('age1pq1') ? 11 : 8)}…${value.slice(-6)}` : value
