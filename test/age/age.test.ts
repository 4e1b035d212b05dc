import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { assertRecipient, generateIdentity, isRecipient, open, parseIdentityFile, recipientOf, seal } from '../../src/age/index.js'
import { isKeyfleetError } from '../../src/errors.js'
import { vector } from '../helpers/tools.js'

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
    try { await promise } catch (error) { return isKeyfleetError(error) ? error.code : `untyped: ${String(error)}` }
    return 'no error'
}

describe('age', () => {
    it('reads keys.txt files, comments included, and derives the published recipient', async () => {
        const text = readFileSync(vector('flux-dotenv', 'age.txt'), 'utf8')
        const [identity] = parseIdentityFile(text, 'age.txt')
        const publicKey = /public key: (age1\S+)/.exec(text)?.[1]
        expect(await recipientOf(identity as string)).toBe(publicKey)
    })

    it('reads a post-quantum identity', async () => {
        const [identity] = parseIdentityFile(readFileSync(vector('flux-yaml-age-pq', 'age-pq.txt'), 'utf8'))
        expect((await recipientOf(identity as string)).startsWith('age1pq1')).toBe(true)
    })

    it('names the bad line of an identity file without echoing it', () => {
        const secretish = 'AGE-SECRET-KEY-1NOTVALIDBECAUSELOWERCASEqqqq'
        try {
            parseIdentityFile(`# comment\n\n${secretish}\n`, 'keys.txt')
            expect.unreachable()
        } catch (error) {
            expect(isKeyfleetError(error) && error.code).toBe('AGE_BAD_IDENTITY_FILE')
            expect((error as Error).message).toContain('keys.txt:3')
            expect((error as Error).message).not.toContain(secretish)
        }
        expect(() => parseIdentityFile('# only comments\n')).toThrow(/holds no age identity/)
    })

    it('seals to several recipients, X25519 and hybrid, and opens with any one of them', async () => {
        const a = await generateIdentity()
        const b = await generateIdentity('hybrid')
        const c = await generateIdentity()
        const sealed = await seal('{"keys":{}}', [a.recipient, b.recipient])
        expect(sealed.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')).toBe(true)
        expect(Buffer.from(await open(sealed, [b.identity])).toString()).toBe('{"keys":{}}')
        expect(Buffer.from(await open(Buffer.from(sealed), [c.identity, a.identity])).toString()).toBe('{"keys":{}}')
        expect(await codeOf(open(sealed, [c.identity]))).toBe('AGE_NO_MATCHING_IDENTITY')
        const tampered = sealed.replace(/\n([A-Za-z0-9+/])/, (_, ch: string) => `\n${ch === 'A' ? 'B' : 'A'}`)
        expect(await codeOf(open(tampered, [a.identity]))).toMatch(/^AGE_(MALFORMED|NO_MATCHING_IDENTITY)$/)
        expect(await codeOf(open('not age at all', [a.identity]))).toBe('AGE_MALFORMED')
    })

    it('validates recipient strings and never echoes a pasted secret key', async () => {
        const { identity, recipient } = await generateIdentity()
        expect(isRecipient(recipient)).toBe(true)
        expect(isRecipient(recipient.slice(0, -1))).toBe(false)
        expect(isRecipient(recipient.toUpperCase())).toBe(false)
        expect(() => assertRecipient(identity, '--admin')).toThrow(/SECRET key/)
        try { assertRecipient(identity, '--admin') } catch (error) { expect((error as Error).message).not.toContain(identity) }
    })
})
