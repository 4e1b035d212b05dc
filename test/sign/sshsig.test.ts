/**
 * Our SSH signatures against the real OpenSSH: `ssh-keygen -Y verify` accepts
 * what we sign and `ssh-keygen -Y sign` writes what we verify; our key files
 * are read by `ssh-keygen -y`, and we read the files `ssh-keygen -t ed25519` writes.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BUNDLE_NAMESPACE, fingerprint, formatPrivateKey, formatPublicKey, generateSigningKey, parsePrivateKey, parsePublicKey, parseSignature, signMessage, verifyMessage } from '../../src/sign/index.js'

const SSH_KEYGEN = '/usr/bin/ssh-keygen'
const dir = mkdtempSync(join(tmpdir(), 'kf-sshsig-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

const sshVerify = (pub: string, message: Buffer, signature: string, namespace = BUNDLE_NAMESPACE): { status: number | null; out: string } => {
    const allowed = join(dir, `allowed-${Math.random()}`)
    const sig = join(dir, `sig-${Math.random()}`)
    writeFileSync(allowed, `ci@keyfleet ${pub.trim()}\n`)
    writeFileSync(sig, signature)
    const r = spawnSync(SSH_KEYGEN, ['-Y', 'verify', '-f', allowed, '-I', 'ci@keyfleet', '-n', namespace, '-s', sig], { input: message, encoding: 'utf8' })
    return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

describe('sshsig against ssh-keygen', () => {
    const key = generateSigningKey('keyfleet-signing:prod')
    const message = Buffer.from('keyfleet-signed-bundle/v1\nenvironment: prod\n\n-----BEGIN AGE ENCRYPTED FILE-----\nabc\n')

    it('ssh-keygen -Y verify accepts our signature, and refuses it for another message, namespace or key', () => {
        const signature = signMessage(message, key, BUNDLE_NAMESPACE)
        const pub = formatPublicKey(key.publicKey)
        const good = sshVerify(pub, message, signature)
        expect(good.out).toContain('Good "keyfleet-bundle" signature for ci@keyfleet')
        expect(good.status).toBe(0)
        expect(sshVerify(pub, Buffer.concat([message, Buffer.from('x')]), signature).status).not.toBe(0)
        expect(sshVerify(pub, message, signature, 'git').status).not.toBe(0)
        expect(sshVerify(formatPublicKey(generateSigningKey('other').publicKey), message, signature).status).not.toBe(0)
    })

    it('ssh-keygen reads our private key file: the public key it derives is ours, and what it signs with it we verify', () => {
        const file = join(dir, 'ours')
        writeFileSync(file, formatPrivateKey(key), { mode: 0o600 })
        const derived = execFileSync(SSH_KEYGEN, ['-y', '-f', file], { encoding: 'utf8' })
        expect(parsePublicKey(derived).raw.equals(key.publicKey.raw)).toBe(true)
        const fp = execFileSync(SSH_KEYGEN, ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' })
        expect(fp).toContain(fingerprint(key.publicKey))
        const msgFile = join(dir, 'msg')
        writeFileSync(msgFile, message)
        execFileSync(SSH_KEYGEN, ['-Y', 'sign', '-f', file, '-n', BUNDLE_NAMESPACE, msgFile], { stdio: 'pipe' })
        const theirs = parseSignature(readFileSync(`${msgFile}.sig`, 'utf8'))
        expect(verifyMessage(message, theirs, key.publicKey, BUNDLE_NAMESPACE)).toEqual({ ok: true })
        rmSync(`${msgFile}.sig`)
    })

    it('reads a key written by ssh-keygen -t ed25519 and verifies its -Y sign signatures; tampering and other keys fail', () => {
        const file = join(dir, 'theirs')
        execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci key', '-f', file])
        const priv = parsePrivateKey(readFileSync(file, 'utf8'))
        const pub = parsePublicKey(readFileSync(`${file}.pub`, 'utf8'))
        expect(priv.publicKey.raw.equals(pub.raw)).toBe(true)
        expect(pub.comment).toBe('ci key')
        const msgFile = join(dir, 'msg2')
        writeFileSync(msgFile, message)
        execFileSync(SSH_KEYGEN, ['-Y', 'sign', '-f', file, '-n', BUNDLE_NAMESPACE, msgFile], { stdio: 'pipe' })
        const signature = parseSignature(readFileSync(`${msgFile}.sig`, 'utf8'))
        expect(fingerprint(signature.signer)).toBe(fingerprint(pub))
        expect(verifyMessage(message, signature, pub, BUNDLE_NAMESPACE)).toEqual({ ok: true })
        expect(verifyMessage(Buffer.concat([message, Buffer.from('!')]), signature, pub, BUNDLE_NAMESPACE)).toEqual({ ok: false, reason: 'bad-signature' })
        expect(verifyMessage(message, signature, pub, 'file')).toEqual({ ok: false, reason: 'wrong-namespace' })
        expect(verifyMessage(message, signature, key.publicKey, BUNDLE_NAMESPACE)).toMatchObject({ ok: false, reason: 'wrong-signer', signer: fingerprint(pub) })
        // And our signature with their key passes their verify.
        expect(sshVerify(readFileSync(`${file}.pub`, 'utf8'), message, signMessage(message, priv, BUNDLE_NAMESPACE)).status).toBe(0)
    })

    it('refuses malformed keys and signatures with typed errors', () => {
        expect(() => parsePublicKey('ssh-rsa AAAAB3NzaC1yc2E= x')).toThrow(expect.objectContaining({ code: 'SIGN_KEY_INVALID' }))
        expect(() => parsePrivateKey('nope')).toThrow(expect.objectContaining({ code: 'SIGN_KEY_INVALID' }))
        const sig = signMessage(message, key, BUNDLE_NAMESPACE)
        const lines = sig.split('\n')
        expect(() => parseSignature([lines[0], lines[1], lines.at(-2)].join('\n'))).toThrow(expect.objectContaining({ code: 'SIGN_SIGNATURE_INVALID' }))
    })
})
