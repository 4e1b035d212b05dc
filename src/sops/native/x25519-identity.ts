/**
 * A fast X25519 age identity for age-encryption's `Identity` interface, on
 * node:crypto (sync X25519 + HKDF + ChaCha20-Poly1305) instead of WebCrypto
 * promises: unwrapping a sops data key drops from milliseconds to tens of
 * microseconds. Used by age-unwrap.ts's node:crypto fast path and, when other
 * identities make it load age-encryption, as one of its Decrypter's identities. Spec: age-encryption.org/v1, "X25519 recipient stanza".
 */
import { createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto'
import type { Identity, Stanza } from 'age-encryption'

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

const polymod = (values: number[]): number => {
    let chk = 1
    for (const v of values) {
        const top = chk >>> 25
        chk = ((chk & 0x1ffffff) << 5) ^ v
        for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i] as number
    }
    return chk
}

/** Decodes a Bech32 (BIP 173) string; undefined on any error. Length limits are not enforced (age keys exceed 90). */
export const bech32Decode = (text: string): { hrp: string; bytes: Buffer } | undefined => {
    const lower = text.toLowerCase()
    if (text !== lower && text !== text.toUpperCase()) return undefined
    const sep = lower.lastIndexOf('1')
    if (sep < 1 || sep + 7 > lower.length) return undefined
    const hrp = lower.slice(0, sep)
    const data: number[] = []
    for (const c of lower.slice(sep + 1)) {
        const v = CHARSET.indexOf(c)
        if (v === -1) return undefined
        data.push(v)
    }
    const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)]
    if (polymod([...expanded, ...data]) !== 1) return undefined
    let acc = 0; let bits = 0
    const out: number[] = []
    for (const v of data.slice(0, -6)) {
        acc = (acc << 5) | v; bits += 5
        if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 0xff) }
    }
    if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) return undefined
    return { hrp, bytes: Buffer.from(out) }
}

const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI = Buffer.from('302a300506032b656e032100', 'hex')
const LABEL = Buffer.from('age-encryption.org/v1/X25519')
const NO_NONCE = Buffer.alloc(12)

const base64NoPad = (text: string): Buffer | undefined => {
    if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined
    const bytes = Buffer.from(text, 'base64')
    return bytes.toString('base64').replace(/=+$/, '') === text ? bytes : undefined
}

/** An X25519 identity backed by node:crypto. */
class NodeX25519Identity implements Identity {
    constructor(private readonly key: KeyObject, private readonly recipient: Buffer) {}

    unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
        for (const s of stanzas) {
            if (s.args[0] !== 'X25519') continue
            // Malformed stanzas throw, as the age spec and age-encryption do.
            if (s.args.length !== 2) throw new Error('invalid X25519 stanza')
            const share = base64NoPad(s.args[1] as string)
            if (!share || share.length !== 32 || s.body.length !== 32) throw new Error('invalid X25519 stanza')
            let secret: Buffer
            try {
                secret = diffieHellman({ privateKey: this.key, publicKey: createPublicKey({ key: Buffer.concat([SPKI, share]), format: 'der', type: 'spki' }) })
            } catch {
                throw new Error('invalid X25519 stanza')
            }
            if (secret.every((b) => b === 0)) throw new Error('invalid X25519 stanza')
            const wrapKey = Buffer.from(hkdfSync('sha256', secret, Buffer.concat([share, this.recipient]), LABEL, 32))
            try {
                const d = createDecipheriv('chacha20-poly1305', wrapKey, NO_NONCE, { authTagLength: 16 })
                d.setAuthTag(s.body.subarray(16))
                return Buffer.concat([d.update(s.body.subarray(0, 16)), d.final()])
            } catch {
                // Not for us (another recipient's stanza): try the next one.
            }
        }
        return null
    }
}

/**
 * Builds a node:crypto identity from `AGE-SECRET-KEY-1…`.
 * @returns undefined when the text is not a valid X25519 age identity (callers fall back to age-encryption).
 */
export const nodeX25519Identity = (identity: string): Identity | undefined => {
    if (!identity.startsWith('AGE-SECRET-KEY-1')) return undefined
    const decoded = bech32Decode(identity)
    if (!decoded || decoded.hrp !== 'age-secret-key-' || decoded.bytes.length !== 32) return undefined
    try {
        const key = createPrivateKey({ key: Buffer.concat([PKCS8, decoded.bytes]), format: 'der', type: 'pkcs8' })
        const recipient = (createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI.length)
        return new NodeX25519Identity(key, Buffer.from(recipient))
    } catch {
        return undefined
    }
}
