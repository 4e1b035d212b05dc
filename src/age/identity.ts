/**
 * age identities: generating them and reading them from keys.txt-style files
 * (`# comments`, one `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` per line).
 */
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption'
import { KeyfleetError } from '../errors.js'
// Reading keys.txt needs no age-encryption: kept apart so key-less CLI paths do not load it (issue 15).
export { isIdentity, parseIdentityFile } from './identity-file.js'

/** A fresh identity and its recipient. */
export interface GeneratedIdentity {
    readonly identity: string
    readonly recipient: string
}

/** Generates an X25519 identity (default) or a post-quantum hybrid one. */
export const generateIdentity = async (kind: 'x25519' | 'hybrid' = 'x25519'): Promise<GeneratedIdentity> => {
    const identity = kind === 'hybrid' ? await generateHybridIdentity() : await generateX25519Identity()
    return { identity, recipient: await identityToRecipient(identity) }
}

/**
 * The recipient (public key) of an identity.
 * @throws KeyfleetError `AGE_BAD_IDENTITY` (the message never contains the identity).
 */
export const recipientOf = async (identity: string): Promise<string> => {
    try {
        return await identityToRecipient(identity)
    } catch (cause) {
        throw new KeyfleetError('AGE_BAD_IDENTITY', 'the age identity is malformed; expected AGE-SECRET-KEY-1… (check for truncation or extra characters)', { cause: redactedCause(cause) })
    }
}

/** Keeps a third-party error's class but drops its message, which may echo input. */
export const redactedCause = (cause: unknown): Error =>
    new Error(`${cause instanceof Error ? cause.constructor.name : 'error'} from age-encryption (details withheld: may echo key material)`)
