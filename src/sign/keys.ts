/**
 * Ed25519 signing keys in the formats OpenSSH reads and writes: the public key
 * line (`ssh-ed25519 AAAA… comment`, as in `allowed_signers` and `*.pub`) and
 * the unencrypted `openssh-key-v1` private key file (what
 * `ssh-keygen -t ed25519 -N ''` writes), so `ssh-keygen -Y sign` and
 * `ssh-keygen -Y verify` work on our keys and we on its. The crypto itself is node:crypto.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { KeyfleetError } from '../errors.js'
import { WireReader, armorBlock, sshString, u32, unarmorBlock } from './wire.js'

/** The only key type we sign with. */
export const KEY_TYPE = 'ssh-ed25519'
const PRIVATE_LABEL = 'OPENSSH PRIVATE KEY'
const AUTH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1')

/** A public signing key. */
export interface PublicSigningKey {
    /** The 32 raw Ed25519 public key bytes. */
    readonly raw: Buffer
    /** The comment of its key line ('' when none). */
    readonly comment: string
    /** The node:crypto key for `verify`. */
    readonly key: KeyObject
}

/** A private signing key (never printed; its `toString` says so). */
export interface PrivateSigningKey {
    readonly publicKey: PublicSigningKey
    /** The node:crypto key for `sign`. */
    readonly key: KeyObject
}

const b64url = (b: Buffer): string => b.toString('base64url')

const publicFromRaw = (raw: Buffer, comment: string): PublicSigningKey => {
    if (raw.length !== 32) throw new KeyfleetError('SIGN_KEY_INVALID', 'an ssh-ed25519 public key has 32 bytes; this one does not. Copy the key line again')
    return { raw, comment, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) }, format: 'jwk' }) }
}

/** The key's wire blob: `string "ssh-ed25519"`, `string raw`. */
export const publicKeyBlob = (key: PublicSigningKey): Buffer => Buffer.concat([sshString(KEY_TYPE), sshString(key.raw)])

/** The fingerprint ssh-keygen prints: `SHA256:` + unpadded base64 of the blob's sha256. */
export const fingerprint = (key: PublicSigningKey): string =>
    `SHA256:${createHash('sha256').update(publicKeyBlob(key)).digest('base64').replace(/=+$/, '')}`

/** Parses a key blob (type + raw key). @throws KeyfleetError `SIGN_KEY_INVALID`. */
export const parsePublicKeyBlob = (blob: Buffer, comment = ''): PublicSigningKey => {
    const r = new WireReader(blob, 'the public key blob', 'SIGN_KEY_INVALID')
    const type = r.text()
    if (type !== KEY_TYPE) throw new KeyfleetError('SIGN_KEY_INVALID', `the signing key is of type ${type.slice(0, 40)}; keyfleet signs with ssh-ed25519 only`)
    const raw = Buffer.from(r.bytesField())
    if (!r.done) r.fail('trailing bytes')
    return publicFromRaw(raw, comment)
}

/**
 * Parses a public key line: `ssh-ed25519 <base64> [comment]` (the first
 * non-comment line of a `.pub` file).
 * @throws KeyfleetError `SIGN_KEY_INVALID` naming what to fix.
 */
export const parsePublicKey = (text: string): PublicSigningKey => {
    const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'))
    const parts = line?.split(/\s+/) ?? []
    if (parts[0] !== KEY_TYPE || parts[1] === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(parts[1])) {
        throw new KeyfleetError('SIGN_KEY_INVALID', 'not an ssh-ed25519 public key line (expected `ssh-ed25519 AAAA… comment`, e.g. environments/<env>/signing.pub)')
    }
    const blob = Buffer.from(parts[1], 'base64')
    return parsePublicKeyBlob(blob, parts.slice(2).join(' '))
}

/** The public key line, e.g. `ssh-ed25519 AAAAC3… keyfleet-signing:prod`. */
export const formatPublicKey = (key: PublicSigningKey): string =>
    `${KEY_TYPE} ${publicKeyBlob(key).toString('base64')}${key.comment === '' ? '' : ` ${key.comment}`}\n`

const fromSeed = (seed: Buffer, comment: string): PrivateSigningKey => {
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' })
    const jwk = createPublicKey(key).export({ format: 'jwk' })
    const publicKey = publicFromRaw(Buffer.from(jwk.x as string, 'base64url'), comment)
    return { publicKey, key }
}

/** A new Ed25519 signing key. */
export const generateSigningKey = (comment: string): PrivateSigningKey => {
    const { privateKey } = generateKeyPairSync('ed25519')
    const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url')
    return fromSeed(seed, comment)
}

/**
 * The private key as an unencrypted OpenSSH private key file (`openssh-key-v1`,
 * cipher and KDF `none`), readable by `ssh-keygen -y -f` and `ssh-keygen -Y sign`.
 */
export const formatPrivateKey = (key: PrivateSigningKey): string => {
    const seed = Buffer.from(key.key.export({ format: 'jwk' }).d as string, 'base64url')
    const check = randomBytes(4)
    const pub = key.publicKey.raw
    let section = Buffer.concat([check, check, sshString(KEY_TYPE), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(key.publicKey.comment)])
    const pad: number[] = []
    for (let i = 1; (section.length + pad.length) % 8 !== 0; i++) pad.push(i)
    section = Buffer.concat([section, Buffer.from(pad)])
    const body = Buffer.concat([AUTH_MAGIC, sshString('none'), sshString('none'), sshString(''), u32(1), sshString(publicKeyBlob(key.publicKey)), sshString(section)])
    return armorBlock(PRIVATE_LABEL, body)
}

/**
 * Parses an unencrypted OpenSSH Ed25519 private key file.
 * @throws KeyfleetError `SIGN_KEY_INVALID` (not that format, passphrase-protected, damaged).
 */
export const parsePrivateKey = (text: string): PrivateSigningKey => {
    const body = unarmorBlock(text, PRIVATE_LABEL)
    if (body === undefined) throw new KeyfleetError('SIGN_KEY_INVALID', 'not an OpenSSH private key (expected -----BEGIN OPENSSH PRIVATE KEY-----, as `keyfleet init` or `ssh-keygen -t ed25519` write it)')
    const r = new WireReader(body, 'the signing private key', 'SIGN_KEY_INVALID')
    if (!r.raw(AUTH_MAGIC.length).equals(AUTH_MAGIC)) r.fail('bad magic')
    const cipher = r.text()
    const kdf = r.text()
    r.bytesField()
    if (cipher !== 'none' || kdf !== 'none') throw new KeyfleetError('SIGN_KEY_INVALID', 'the signing key is passphrase-protected; CI cannot type a passphrase. Use an unencrypted key stored as a CI secret')
    if (r.u32() !== 1) r.fail('expected exactly one key')
    const outer = parsePublicKeyBlob(Buffer.from(r.bytesField()))
    const s = new WireReader(Buffer.from(r.bytesField()), 'the signing private key', 'SIGN_KEY_INVALID')
    if (s.u32() !== s.u32()) r.fail('check bytes differ')
    if (s.text() !== KEY_TYPE) r.fail('not ssh-ed25519')
    const pub = s.bytesField()
    const priv = s.bytesField()
    const comment = s.text()
    if (priv.length !== 64 || !pub.equals(outer.raw) || !priv.subarray(32).equals(pub)) r.fail('key parts disagree')
    const key = fromSeed(Buffer.from(priv.subarray(0, 32)), comment)
    if (!key.publicKey.raw.equals(pub)) r.fail('public key does not match the private key')
    return key
}
