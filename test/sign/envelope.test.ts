/**
 * The signed envelope: `ssh-keygen -Y verify` checks it after splitting it
 * with sed exactly as docs/hosts.md shows; damage of any kind is refused.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { seal } from '../../src/age/index.js'
import { generateIdentity } from '../../src/age/index.js'
import { formatPublicKey, generateSigningKey, parseEnvelope, signEnvelope, verifyEnvelope } from '../../src/sign/index.js'

const dir = mkdtempSync(join(tmpdir(), 'kf-envelope-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
const header = { environment: 'prod', agent: 'web', generation: '0123456789abcdef', issuedAt: 1_764_640_000_123 }

describe('signed bundle envelope', () => {
    it('round-trips, and ssh-keygen verifies it split by sed', async () => {
        const key = generateSigningKey('keyfleet-signing:prod')
        const { recipient } = await generateIdentity()
        const ciphertext = await seal('{"keyfleet":"bundle/v1"}\n', [recipient])
        const text = signEnvelope(header, ciphertext, key)
        const env = parseEnvelope(text)
        expect(env.header).toEqual(header)
        expect(env.ciphertext).toBe(ciphertext)
        expect(verifyEnvelope(env, key.publicKey)).toEqual({ ok: true })
        const file = join(dir, 'web.bundle')
        writeFileSync(file, text)
        writeFileSync(join(dir, 'allowed'), `ci ${formatPublicKey(key.publicKey)}`)
        const script = `sed '/^-----BEGIN SSH SIGNATURE-----$/,$d' ${file} > ${dir}/msg && sed -n '/^-----BEGIN SSH SIGNATURE-----$/,$p' ${file} > ${dir}/sig && ssh-keygen -Y verify -f ${dir}/allowed -I ci -n keyfleet-bundle -s ${dir}/sig < ${dir}/msg`
        const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' })
        expect(r.stdout + r.stderr).toContain('Good "keyfleet-bundle" signature')
        expect(r.status).toBe(0)
    })

    it('refuses unsigned, truncated, re-headed and foreign-key bundles', async () => {
        const key = generateSigningKey('k')
        const { recipient } = await generateIdentity()
        const ciphertext = await seal('x', [recipient])
        const text = signEnvelope(header, ciphertext, key)
        expect(() => parseEnvelope(ciphertext)).toThrow(expect.objectContaining({ code: 'SIGN_UNSIGNED' }))
        for (const cut of [40, text.indexOf('-----BEGIN SSH') + 20, text.length - 10]) {
            expect(() => parseEnvelope(text.slice(0, cut)), `cut at ${cut}`).toThrow(expect.objectContaining({ code: expect.stringMatching(/^SIGN_/) }))
        }
        const replayed = parseEnvelope(text.replace('issued-at: 1764640000123', 'issued-at: 1764640000999'))
        expect(verifyEnvelope(replayed, key.publicKey)).toEqual({ ok: false, reason: 'bad-signature' })
        const other = generateSigningKey('other')
        expect(verifyEnvelope(parseEnvelope(signEnvelope(header, ciphertext, other)), key.publicKey)).toMatchObject({ ok: false, reason: 'wrong-signer' })
        expect(() => signEnvelope({ ...header, agent: 'Web\nx' }, ciphertext, key)).toThrow(expect.objectContaining({ code: 'SIGN_ENVELOPE_INVALID' }))
    })
})
