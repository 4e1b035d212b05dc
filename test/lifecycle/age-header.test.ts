import { describe, expect, it } from 'vitest'
import { generateIdentity, seal } from '../../src/age/index.js'
import { inspectAgeFile } from '../../src/validate/index.js'

describe('inspectAgeFile (key-less)', () => {
    it('accepts a real armored age file and lists one stanza per recipient', async () => {
        const a = await generateIdentity()
        const b = await generateIdentity()
        const result = inspectAgeFile(await seal('{"x":1}', [a.recipient, b.recipient]))
        expect(result.ok).toBe(true)
        if (result.ok) expect(result.stanzas.map((s) => s.type)).toEqual(['X25519', 'X25519'])
    })

    it('accepts a hybrid (ML-KEM) recipient stanza', async () => {
        const pq = await generateIdentity('hybrid')
        const result = inspectAgeFile(await seal('v', [pq.recipient]))
        expect(result.ok).toBe(true)
        if (result.ok) expect(result.stanzas[0]?.type).toBe('mlkem768x25519')
    })

    it('rejects plaintext, damaged armor, a foreign header and a missing payload', async () => {
        const { recipient } = await generateIdentity()
        const good = await seal('payload', [recipient])
        const armored = (bytes: string): string => {
            const b64 = Buffer.from(bytes, 'latin1').toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
            return `-----BEGIN AGE ENCRYPTED FILE-----\n${b64}\n-----END AGE ENCRYPTED FILE-----\n`
        }
        const mac = `--- ${'A'.repeat(43)}\n`
        const cases: [string, string, RegExp][] = [
            ['plaintext', '{"keyfleet":"proposal/v1","value":"x"}', /does not start with/],
            ['no end line', good.replace('-----END AGE ENCRYPTED FILE-----', ''), /does not end with/],
            ['bad base64', good.replace(/\n([A-Za-z0-9+/]{10})/, '\n!!!!!!!!!!'), /armor is damaged/],
            ['wrong version', armored(`age-encryption.org/v2\n-> X25519 abc\nAAAA\n${mac}${'x'.repeat(40)}`), /does not start with "age-encryption.org\/v1"/],
            ['no stanza', armored(`age-encryption.org/v1\n${mac}${'x'.repeat(40)}`), /no recipient stanza/],
            ['no mac line', armored('age-encryption.org/v1\n-> X25519 abc\nAAAA\n'), /without its "---" MAC line/],
            ['short payload', armored(`age-encryption.org/v1\n-> X25519 abc\nAAAA\n${mac}xx`), /payload is missing or too short/],
        ]
        for (const [label, text, reason] of cases) {
            const result = inspectAgeFile(text)
            expect(result.ok, label).toBe(false)
            if (!result.ok) expect(result.reason, label).toMatch(reason)
        }
        // The structure the fakes share is sound: with a real payload length the same header passes.
        expect(inspectAgeFile(armored(`age-encryption.org/v1\n-> X25519 abc\nAAAA\n${mac}${'x'.repeat(40)}`)).ok).toBe(true)
    })
})
