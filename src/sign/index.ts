/**
 * Bundle signing: Ed25519 SSH signatures (PROTOCOL.sshsig, verifiable by
 * `ssh-keygen -Y verify`) over a small signed envelope. node:crypto only, so
 * the loader may import it.
 */
export { ENVELOPE_MAGIC, looksLikeEnvelope, parseEnvelope, signEnvelope, verifyEnvelope, type Envelope, type EnvelopeHeader } from './envelope.js'
export { KEY_TYPE, fingerprint, formatPrivateKey, formatPublicKey, generateSigningKey, parsePrivateKey, parsePublicKey, type PrivateSigningKey, type PublicSigningKey } from './keys.js'
export { BUNDLE_NAMESPACE, parseSignature, signMessage, verifyMessage, type ParsedSignature, type Verdict } from './sshsig.js'
