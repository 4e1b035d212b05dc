/**
 * SSH signatures (OpenSSH PROTOCOL.sshsig): the format `ssh-keygen -Y sign`
 * writes and `ssh-keygen -Y verify` checks, for Ed25519 keys, written with
 * node:crypto. The signed data is the magic "SSHSIG", then the SSH strings
 * namespace, reserved, "sha512" and sha512(message); the namespace keeps a
 * keyfleet bundle signature from being valid for anything else (git commits,
 * files) and vice versa.
 */
import { createHash, sign as edSign, verify as edVerify } from 'node:crypto'
import { KeyfleetError } from '../errors.js'
import { KEY_TYPE, fingerprint, parsePublicKeyBlob, publicKeyBlob, type PrivateSigningKey, type PublicSigningKey } from './keys.js'
import { WireReader, armorBlock, sshString, u32, unarmorBlock } from './wire.js'

/** The namespace of keyfleet bundle signatures (`ssh-keygen -Y verify -n keyfleet-bundle`). */
export const BUNDLE_NAMESPACE = 'keyfleet-bundle'
/** Armor label of an SSH signature. */
export const SIGNATURE_LABEL = 'SSH SIGNATURE'
const MAGIC = Buffer.from('SSHSIG', 'latin1')
const HASH = 'sha512'

const signedData = (namespace: string, message: Uint8Array): Buffer =>
    Buffer.concat([MAGIC, sshString(namespace), sshString(''), sshString(HASH), sshString(createHash(HASH).update(message).digest())])

/** Signs `message`; returns the armored `-----BEGIN SSH SIGNATURE-----` block (newline-terminated). */
export const signMessage = (message: Uint8Array, key: PrivateSigningKey, namespace: string): string => {
    const signature = edSign(null, signedData(namespace, message), key.key)
    const blob = Buffer.concat([
        MAGIC, u32(1), sshString(publicKeyBlob(key.publicKey)), sshString(namespace), sshString(''), sshString(HASH),
        sshString(Buffer.concat([sshString(KEY_TYPE), sshString(signature)])),
    ])
    return armorBlock(SIGNATURE_LABEL, blob)
}

/** A parsed signature: who signed, for which namespace; `verify` checks it. */
export interface ParsedSignature {
    readonly signer: PublicSigningKey
    readonly namespace: string
    readonly hash: string
    readonly signature: Buffer
}

/** Parses an armored SSH signature. @throws KeyfleetError `SIGN_SIGNATURE_INVALID`. */
export const parseSignature = (armored: string): ParsedSignature => {
    const blob = unarmorBlock(armored, SIGNATURE_LABEL)
    if (blob === undefined) throw new KeyfleetError('SIGN_SIGNATURE_INVALID', 'no -----BEGIN SSH SIGNATURE----- block (or its base64 is damaged)')
    const r = new WireReader(blob, 'the SSH signature', 'SIGN_SIGNATURE_INVALID')
    if (!r.raw(6).equals(MAGIC)) r.fail('bad magic')
    if (r.u32() !== 1) r.fail('unknown version')
    let signer: PublicSigningKey
    try {
        signer = parsePublicKeyBlob(Buffer.from(r.bytesField()))
    } catch (error) {
        throw new KeyfleetError('SIGN_SIGNATURE_INVALID', 'the SSH signature is not from an ssh-ed25519 key; keyfleet verifies ssh-ed25519 only', { cause: error })
    }
    const namespace = r.text()
    r.bytesField()
    const hash = r.text()
    const sig = new WireReader(Buffer.from(r.bytesField()), 'the SSH signature', 'SIGN_SIGNATURE_INVALID')
    if (!r.done) r.fail('trailing bytes')
    if (sig.text() !== KEY_TYPE) sig.fail('signature type is not ssh-ed25519')
    const signature = Buffer.from(sig.bytesField())
    if (signature.length !== 64 || !sig.done) sig.fail('bad Ed25519 signature length')
    return { signer, namespace, hash, signature }
}

/** Outcome of {@link verifyMessage}. */
export type Verdict =
    | { readonly ok: true }
    | { readonly ok: false; readonly reason: 'wrong-signer'; readonly signer: string }
    | { readonly ok: false; readonly reason: 'wrong-namespace' | 'bad-signature' }

/**
 * Checks that `signature` is `trusted`'s signature of `message` in `namespace`
 * (the checks of `ssh-keygen -Y verify`, with `trusted` as the only allowed signer).
 */
export const verifyMessage = (message: Uint8Array, signature: ParsedSignature, trusted: PublicSigningKey, namespace: string): Verdict => {
    if (!signature.signer.raw.equals(trusted.raw)) return { ok: false, reason: 'wrong-signer', signer: fingerprint(signature.signer) }
    if (signature.namespace !== namespace) return { ok: false, reason: 'wrong-namespace' }
    if (signature.hash !== 'sha512' && signature.hash !== 'sha256') return { ok: false, reason: 'bad-signature' }
    const data = Buffer.concat([MAGIC, sshString(namespace), sshString(''), sshString(signature.hash), sshString(createHash(signature.hash).update(message).digest())])
    return edVerify(null, data, trusted.key, signature.signature) ? { ok: true } : { ok: false, reason: 'bad-signature' }
}
