/**
 * Builds age files by hand with node:crypto, so that tests can hold a header whose MAC is valid but whose
 * grammar is deliberately wrong (age-encryption.org/v1) up to an oracle we did not write (the age CLI).
 * The test knows the identity, so it can wrap the file key, MAC the header and seal the payload itself.
 */
import { createCipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto'
import { bech32Decode } from '../../../src/sops/native/x25519-identity.js'

const SPKI = Buffer.from('302a300506032b656e032100', 'hex')
const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** Raw 32-byte X25519 public key of a node key. */
export const rawPublic = (key: KeyObject): Buffer => (createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI.length)

/** The X25519 secret key of an `AGE-SECRET-KEY-1…` identity, and its raw public key. */
export const keysOf = (identity: string): { secret: KeyObject; publicKey: Buffer } => {
    const decoded = bech32Decode(identity)
    if (!decoded) throw new Error('not an X25519 identity')
    const secret = createPrivateKey({ key: Buffer.concat([PKCS8, decoded.bytes]), format: 'der', type: 'pkcs8' })
    return { secret, publicKey: rawPublic(secret) }
}

/** Unpadded standard base64, as age writes stanza arguments, bodies and the MAC. */
export const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '')

/** ChaCha20-Poly1305 seal: ciphertext then tag. */
export const seal = (key: Buffer, nonce: Buffer, plain: Buffer): Buffer => {
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()])
}

const hkdf = (ikm: Buffer, salt: Buffer, info: string): Buffer => Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info), 32))

/** A stanza body in age's wrapping: 64-column lines, always ending with a short (maybe empty) one. */
export const bodyLines = (body: Buffer): string[] => {
    const text = b64(body)
    const lines: string[] = []
    for (let i = 0; i <= text.length; i += 64) lines.push(text.slice(i, i + 64))
    return lines
}

/**
 * An X25519 stanza wrapping `fileKey` to `recipient`: the share (the ephemeral public key, or `share(E)`
 * when given: the DH result is the same only if the recipient's scalar maps it to the same point) and the
 * 32-byte wrapped key (`body(b)` may alter it).
 */
export const x25519Stanza = (recipient: Buffer, fileKey: Buffer, opts: { share?: (e: Buffer) => Buffer; secret?: Buffer } = {}): { share: Buffer; body: Buffer } => {
    const eph = generateKeyPairSync('x25519').privateKey
    const real = rawPublic(eph)
    const share = opts.share ? opts.share(real) : real
    const secret = opts.secret ?? diffieHellman({ privateKey: eph, publicKey: createPublicKey({ key: Buffer.concat([SPKI, recipient]), format: 'der', type: 'spki' }) })
    const wrapKey = hkdf(secret, Buffer.concat([share, recipient]), 'age-encryption.org/v1/X25519')
    return { share, body: seal(wrapKey, Buffer.alloc(12), fileKey) }
}

/** The stanza text `-> ARGS\nBODY LINES\n` for well-formed parts. */
export const stanzaText = (args: readonly string[], body: Buffer): string => `-> ${args.join(' ')}\n${bodyLines(body).join('\n')}\n`

export interface Forged {
    /** Everything before the `---` of the MAC line (intro and stanzas). */
    readonly head: string
    /** The MAC line after `---`; default ` ` + the valid MAC + `\n`. */
    readonly macLine?: (mac: Buffer) => string
    /** Payload plaintext; default 32 bytes of 0x11. */
    readonly plain?: Buffer
    /** Edits the sealed payload (nonce + chunk) before it is appended. */
    readonly payload?: (p: Buffer) => Buffer
    /** Seals the single chunk without the last-chunk flag. */
    readonly notLast?: boolean
    /** STREAM chunks to seal instead of `plain` (counter 0, 1, …; `last` sets the flag). */
    readonly chunks?: readonly { readonly plain: Buffer; readonly last: boolean }[]
}

/** The payload (nonce + sealed chunks) of a file whose file key is `fileKey`. */
export const sealPayload = (fileKey: Buffer, chunks: readonly { readonly plain: Buffer; readonly last: boolean }[]): Buffer => {
    const nonce = Buffer.alloc(16, 0x5a)
    const key = hkdf(fileKey, nonce, 'payload')
    return Buffer.concat([nonce, ...chunks.map((c, i) => {
        const chunkNonce = Buffer.alloc(12)
        chunkNonce.writeUInt32BE(i, 7)
        chunkNonce[11] = c.last ? 1 : 0
        return seal(key, chunkNonce, c.plain)
    })])
}

/** A binary age file for `fileKey`: `head` + `---` + MAC line (MAC over head + `---`, as Go's headerMAC) + payload. */
export const forge = (fileKey: Buffer, f: Forged): Buffer => {
    const macInput = Buffer.from(`${f.head}---`, 'latin1')
    const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(macInput).digest()
    const macLine = f.macLine ? f.macLine(mac) : ` ${b64(mac)}\n`
    const sealed = sealPayload(fileKey, f.chunks ?? [{ plain: f.plain ?? Buffer.alloc(32, 0x11), last: !f.notLast }])
    return Buffer.concat([macInput, Buffer.from(macLine, 'latin1'), f.payload ? f.payload(sealed) : sealed])
}
