/**
 * The signed bundle envelope (`keyfleet-signed-bundle/v1`): a small header
 * (environment, agent, generation, issue time in epoch ms), the host's
 * age-armored bundle, and an SSH signature (namespace `keyfleet-bundle`) over
 * everything before the signature block. A host checks signer, environment,
 * agent and rollback from the header before it decrypts anything; after
 * decrypting it checks that the payload repeats the header's facts.
 *
 * Plain text on purpose: `sed` splits it and `ssh-keygen -Y verify` checks it
 * (docs/hosts.md), no keyfleet needed to audit a channel.
 */
import { KeyfleetError } from '../errors.js'
import { type PrivateSigningKey, type PublicSigningKey } from './keys.js'
import { BUNDLE_NAMESPACE, SIGNATURE_LABEL, parseSignature, signMessage, verifyMessage, type ParsedSignature, type Verdict } from './sshsig.js'

/** First line of every signed bundle. */
export const ENVELOPE_MAGIC = 'keyfleet-signed-bundle/v1'
const SIG_BEGIN = `-----BEGIN ${SIGNATURE_LABEL}-----\n`
const AGE_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/
const GENERATION = /^[0-9a-f]{1,64}$/
const FIELDS = ['environment', 'agent', 'generation', 'issued-at'] as const

/** The signed facts of a bundle, readable before decryption. */
export interface EnvelopeHeader {
    readonly environment: string
    readonly agent: string
    readonly generation: string
    /** Issue time, epoch milliseconds; strictly increases from one publish of an agent's bundle to the next. */
    readonly issuedAt: number
}

/** A parsed, not yet verified, envelope. */
export interface Envelope {
    readonly header: EnvelopeHeader
    /** The armored age ciphertext. */
    readonly ciphertext: string
    /** The signed bytes: everything before the signature block. */
    readonly message: Buffer
    readonly signature: ParsedSignature
}

const check = (ok: boolean, detail: string): void => {
    if (!ok) throw new KeyfleetError('SIGN_ENVELOPE_INVALID', `not a well-formed signed keyfleet bundle (${detail}); it may be truncated or not from keyfleet`)
}

/** The header text, a blank line included. */
const headerText = (h: EnvelopeHeader): string =>
    `${ENVELOPE_MAGIC}\nenvironment: ${h.environment}\nagent: ${h.agent}\ngeneration: ${h.generation}\nissued-at: ${h.issuedAt}\n\n`

const assertHeader = (h: EnvelopeHeader): void => {
    check(NAME.test(h.environment) && NAME.test(h.agent), 'environment or agent name')
    check(GENERATION.test(h.generation), 'generation')
    check(Number.isSafeInteger(h.issuedAt) && h.issuedAt > 0, 'issued-at')
}

/**
 * Wraps an armored age bundle in a signed envelope.
 * @throws KeyfleetError `SIGN_ENVELOPE_INVALID` for a bad header value or a ciphertext that is not age armor.
 */
export const signEnvelope = (header: EnvelopeHeader, ciphertext: string, key: PrivateSigningKey): string => {
    assertHeader(header)
    check(ciphertext.startsWith(AGE_BEGIN) && ciphertext.endsWith('\n') && !ciphertext.includes(SIG_BEGIN), 'the bundle is not age armor')
    const message = headerText(header) + ciphertext
    return message + signMessage(Buffer.from(message, 'utf8'), key, BUNDLE_NAMESPACE)
}

/** True when `text` starts like a signed envelope (even a damaged one). */
export const looksLikeEnvelope = (text: string): boolean => text.startsWith(`${ENVELOPE_MAGIC}\n`)

/**
 * Parses an envelope without trusting it.
 * @throws KeyfleetError `SIGN_UNSIGNED` (no envelope, or no signature block),
 *   `SIGN_ENVELOPE_INVALID` (damaged header, truncated), `SIGN_SIGNATURE_INVALID`.
 */
export const parseEnvelope = (text: string): Envelope => {
    if (!looksLikeEnvelope(text)) throw new KeyfleetError('SIGN_UNSIGNED', 'the bundle is not signed (no keyfleet-signed-bundle/v1 envelope); publish it with the deploy workflow, which signs it with the environment\'s CI signing key')
    const at = text.indexOf(`\n${SIG_BEGIN}`)
    if (at < 0) throw new KeyfleetError('SIGN_UNSIGNED', 'the bundle has no signature block; it is truncated or was not signed')
    const messageText = text.slice(0, at + 1)
    const blank = messageText.indexOf('\n\n')
    check(blank > 0, 'no header end')
    const lines = messageText.slice(0, blank).split('\n')
    check(lines.length === FIELDS.length + 1, 'header fields')
    const values: string[] = []
    FIELDS.forEach((field, i) => {
        const line = lines[i + 1] as string
        check(line.startsWith(`${field}: `), `expected ${field}`)
        values.push(line.slice(field.length + 2))
    })
    const [environment, agent, generation, issued] = values as [string, string, string, string]
    check(/^[1-9][0-9]{0,15}$/.test(issued), 'issued-at')
    const header: EnvelopeHeader = { environment, agent, generation, issuedAt: Number(issued) }
    assertHeader(header)
    const ciphertext = messageText.slice(blank + 2)
    check(ciphertext.startsWith(AGE_BEGIN), 'no age armor')
    const sigText = text.slice(at + 1)
    check(sigText.trimEnd().endsWith(`-----END ${SIGNATURE_LABEL}-----`), 'signature block cut short')
    const signature = parseSignature(sigText)
    return { header, ciphertext, message: Buffer.from(messageText, 'utf8'), signature }
}

/** Checks the envelope's signature against the pinned key (namespace `keyfleet-bundle`). */
export const verifyEnvelope = (envelope: Envelope, trusted: PublicSigningKey): Verdict =>
    verifyMessage(envelope.message, envelope.signature, trusted, BUNDLE_NAMESPACE)
