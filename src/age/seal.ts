/**
 * Sealing and opening small payloads (bundles, proposals, data keys) with age.
 */
import { Decrypter, Encrypter, armor } from 'age-encryption'
import { KeyfleetError } from '../errors.js'
import { redactedCause } from './identity.js'
import { assertRecipient } from './recipient.js'

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const BINARY_MAGIC = 'age-encryption.org/v1\n'

/**
 * Encrypts `plaintext` to every recipient and returns the armored age file.
 * @throws KeyfleetError `AGE_BAD_RECIPIENT` when a recipient is malformed, `AGE_NO_RECIPIENTS` when none is given.
 */
export const seal = async (plaintext: Uint8Array | string, recipients: readonly string[]): Promise<string> => {
    if (recipients.length === 0) throw new KeyfleetError('AGE_NO_RECIPIENTS', 'nothing to encrypt to: give at least one age recipient')
    const encrypter = new Encrypter()
    for (const recipient of recipients) {
        assertRecipient(recipient, 'recipient')
        encrypter.addRecipient(recipient)
    }
    return armor.encode(await encrypter.encrypt(plaintext))
}

/** True when `data` starts like an age file, armored or binary. */
export const looksLikeAge = (data: Uint8Array | string): boolean => {
    const head = typeof data === 'string' ? data.slice(0, 64) : Buffer.from(data.subarray(0, 64)).toString('latin1')
    const trimmed = head.trimStart()
    return trimmed.startsWith(ARMOR_BEGIN) || head.startsWith(BINARY_MAGIC)
}

/**
 * Decrypts an armored or binary age file with any of `identities`.
 * @throws KeyfleetError `AGE_NO_MATCHING_IDENTITY` when no identity opens it,
 *   `AGE_MALFORMED` when it is not a valid age file (or was tampered with).
 */
export const open = async (ciphertext: Uint8Array | string, identities: readonly string[]): Promise<Uint8Array> => {
    let binary: Uint8Array
    try {
        const text = typeof ciphertext === 'string' ? ciphertext : undefined
        const isArmor = text !== undefined ? text.trimStart().startsWith(ARMOR_BEGIN) : looksLikeArmorBytes(ciphertext as Uint8Array)
        binary = isArmor ? armor.decode(text ?? Buffer.from(ciphertext as Uint8Array).toString('latin1')) : (typeof ciphertext === 'string' ? Buffer.from(ciphertext, 'latin1') : ciphertext)
    } catch (cause) {
        throw new KeyfleetError('AGE_MALFORMED', 'not a valid age file (bad armor); re-encrypt it or restore it from git', { cause: redactedCause(cause) })
    }
    const decrypter = new Decrypter()
    try {
        for (const identity of identities) decrypter.addIdentity(identity)
    } catch (cause) {
        throw new KeyfleetError('AGE_BAD_IDENTITY', 'an age identity is malformed; expected AGE-SECRET-KEY-1…', { cause: redactedCause(cause) })
    }
    try {
        return await decrypter.decrypt(binary, 'uint8array')
    } catch (cause) {
        const message = cause instanceof Error ? cause.message : ''
        if (/no identity matched/i.test(message)) {
            throw new KeyfleetError('AGE_NO_MATCHING_IDENTITY', 'none of the given age identities can open this file; use the identity of one of its recipients', { cause: redactedCause(cause) })
        }
        throw new KeyfleetError('AGE_MALFORMED', 'the age file is malformed or was modified; restore it from git or re-encrypt it', { cause: redactedCause(cause) })
    }
}

const looksLikeArmorBytes = (data: Uint8Array): boolean =>
    Buffer.from(data.subarray(0, 64)).toString('latin1').trimStart().startsWith(ARMOR_BEGIN)
