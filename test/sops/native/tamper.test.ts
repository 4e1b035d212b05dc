/**
 * Every single-byte change to a value's data, IV or tag, to the MAC and to
 * lastmodified, a swap of two ciphertexts and a renamed key are rejected; no
 * error message leaks the canary or its ciphertext; a random sample is
 * cross-checked against the real sops (which must reject them too).
 */
import { describe, expect, it } from 'vitest'
import { isKeyfleetError } from '../../../src/errors.js'
import { decryptSopsFile, type StoreKind } from '../../../src/sops/native/index.js'
import { findLeaks, makeCanary } from '../../helpers/canary.js'
import { newKey, sopsDecryptText, sopsEncrypt } from './helpers.js'

const ENC = /ENC\[AES256_GCM,data:([^,]+),iv:([^,]+),tag:([^,]+),type:([a-z]+)\]/g

/** All single-byte flips of every ENC[...] field in `text`, as [label, mutated text]. */
const byteFlips = (text: string): [string, string][] => {
    const out: [string, string][] = []
    for (const m of text.matchAll(ENC)) {
        const start = m.index
        const fields = [m[1], m[2], m[3]] as string[]
        fields.forEach((field, f) => {
            const bytes = Buffer.from(field, 'base64')
            for (let i = 0; i < bytes.length; i++) {
                const flipped = Buffer.from(bytes)
                flipped[i] = (flipped[i] as number) ^ 0x01
                const fieldsNew = [...fields]
                fieldsNew[f] = flipped.toString('base64')
                const replacement = `ENC[AES256_GCM,data:${fieldsNew[0]},iv:${fieldsNew[1]},tag:${fieldsNew[2]},type:${m[4]}]`
                out.push([`${['data', 'iv', 'tag'][f]}[${i}]@${start}`, text.slice(0, start) + replacement + text.slice(start + m[0].length)])
            }
        })
    }
    return out
}

/** Each digit of lastmodified bumped by one (some make invalid dates: also rejected). */
const timeFlips = (text: string, lastmodified: RegExp): [string, string][] => {
    const m = lastmodified.exec(text)
    if (!m) throw new Error('no lastmodified in the test file')
    const value = m[1] as string
    const at = m.index + m[0].indexOf(value)
    return [...value].flatMap((c, i) => (/\d/.test(c) ? [[`lastmodified[${i}]`, text.slice(0, at + i) + String((Number(c) + 1) % 10) + text.slice(at + i + 1)] as [string, string]] : []))
}

const runTamper = async (store: StoreKind, plaintext: string, canary: string, lastmodified: RegExp, rename: [string, string]) => {
    const key = await newKey()
    const text = sopsEncrypt(plaintext, store, [key.recipient])
    const canaryCipher = [...text.matchAll(ENC)].find((m) => m.index === text.indexOf('ENC[', text.indexOf(rename[0])))?.[0] ?? ''
    expect(canaryCipher).not.toBe('')
    // Sanity: the untouched file decrypts.
    await expect(decryptSopsFile(text, { store, identities: [key.identity] })).resolves.toBeDefined()
    const encs = [...text.matchAll(ENC)].map((m) => m[0])
    const mutations: [string, string][] = [
        ...byteFlips(text),
        ...timeFlips(text, lastmodified),
        ['swap first two values', text.replace(encs[0] as string, '\u0000').replace(encs[1] as string, encs[0] as string).replace('\u0000', encs[1] as string)],
        ['rename a key', text.replace(rename[0], rename[1])],
    ]
    const messages: string[] = []
    for (const [label, mutated] of mutations) {
        expect(mutated, label).not.toBe(text)
        const error = await decryptSopsFile(mutated, { store, identities: [key.identity], file: 'env.secrets' }).then(() => undefined, (e: unknown) => e)
        expect(isKeyfleetError(error), `${label} was accepted or threw a non-keyfleet error`).toBe(true)
        expect((error as { code: string }).code).toMatch(/^NATIVE_(MAC_MISMATCH|MALFORMED)$/)
        messages.push((error as Error).message)
    }
    console.log(`${store}: ${mutations.length} tamper cases tried, all rejected`)
    const haystack = messages.join('\n')
    expect(findLeaks(canary, { messages: haystack })).toEqual([])
    expect(haystack.includes(canaryCipher)).toBe(false)
    for (const field of [...canaryCipher.matchAll(/(?:data|iv|tag):([^,\]]+)/g)].map((m) => m[1] as string)) expect(haystack.includes(field)).toBe(false)
    // Cross-check a random sample with the real sops: it rejects them as well.
    const sample = [...mutations].sort(() => Math.random() - 0.5).slice(0, 8)
    for (const [label, mutated] of sample) expect(sopsDecryptText(mutated, store, key.identity).status, `sops accepted ${label}`).not.toBe(0)
    return mutations.length
}

describe('tampering', () => {
    it('dotenv: every mutation is rejected, messages are clean', async () => {
        const canary = makeCanary()
        await runTamper('dotenv', `OPENAI_API_KEY=${canary}\nOTHER=second-value\nNOTE_unencrypted=plain\n`, canary, /^sops_lastmodified=(.*)$/m, ['OPENAI_API_KEY=', 'OPENAI_API_KEX='])
    })

    it('yaml: every mutation is rejected, messages are clean', async () => {
        const canary = makeCanary()
        await runTamper('yaml', `openai: ${canary}\nnested:\n  other: second\n  list: [a, b]\n`, canary, /lastmodified: "?([^"\n]+)"?/, ['openai:', 'openaj:'])
    })

    it('moving a ciphertext to another path fails authentication, naming the path only', async () => {
        const key = await newKey()
        const canary = makeCanary()
        const text = sopsEncrypt(`A=${canary}\nB=x\n`, 'dotenv', [key.recipient])
        const a = /^A=(.*)$/m.exec(text)?.[1] as string
        const moved = text.replace(/^B=.*$/m, `B=${a}`)
        const error = await decryptSopsFile(moved, { store: 'dotenv', identities: [key.identity], file: 'x.env' }).catch((e: unknown) => e)
        expect(error).toMatchObject({ code: 'NATIVE_MAC_MISMATCH', line: 2 })
        expect((error as Error).message).toContain('B failed authentication')
        expect(findLeaks(canary, { message: (error as Error).message })).toEqual([])
    })
})
