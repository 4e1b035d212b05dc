/**
 * Forged age entries inside real sops files, with the real sops 3.13.2 binary as the oracle: the data-key
 * lengths sops takes (age/keysource.go returns whatever the age payload holds; aes/cipher.go hands it to
 * crypto/aes.NewCipher, which takes 16, 24 or 32 bytes) and the armor/header rules of age-header-grammar,
 * end to end. The values and the MAC are sealed here with node:crypto under the forged data key, as
 * sops' aes/cipher.go Encrypt does (AES-GCM, 32-byte IV, AAD = path + ":" / lastmodified).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { encodeAgeArmor } from '../../../src/sops/native/age-armor.js'
import { clearDataKeyMemo } from '../../../src/sops/native/age-unwrap.js'
import { decryptSopsFile } from '../../../src/sops/native/index.js'
import { b64, forge, keysOf, stanzaText, x25519Stanza } from './age-forge.js'
import { newKey, sopsDecryptText, sopsEncrypt } from './helpers.js'

const sealValue = (plain: string, key: Buffer, aad: string): string => {
    const iv = randomBytes(32)
    const c = createCipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, iv, { authTagLength: 16 })
    c.setAAD(Buffer.from(aad, 'utf8'))
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()])
    return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${c.getAuthTag().toString('base64')},type:str]`
}

/**
 * A sops JSON file `{"A": value}` for a fresh identity whose age entries wrap `dataKeys` (any lengths) in
 * forged entries (`enc(armored)` may edit the armored text), the value and the MAC sealed under `aesKey`.
 */
const sopsFileWith = async (dataKeys: readonly Buffer[], aesKey: Buffer, enc: (armored: string) => string = (a) => a): Promise<{ text: string; identity: string }> => {
    const mine = await newKey()
    const file = JSON.parse(sopsEncrypt('{"A": "v"}', 'json', [mine.recipient])) as { A: string; sops: { age: { recipient: string; enc: string }[]; lastmodified: string; mac: string } }
    const sops = file.sops
    file.A = sealValue('v', aesKey, 'A:')
    sops.mac = sealValue(createHash('sha512').update('v').digest('hex').toUpperCase(), aesKey, sops.lastmodified)
    sops.age = dataKeys.map((dataKey) => {
        const fileKey = randomBytes(16)
        const s = x25519Stanza(keysOf(mine.identity).publicKey, fileKey)
        const armored = encodeAgeArmor(forge(fileKey, { head: `age-encryption.org/v1\n${stanzaText(['X25519', b64(s.share)], s.body)}`, plain: dataKey }))
        return { recipient: mine.recipient, enc: enc(armored) }
    })
    return { text: `${JSON.stringify(file, null, 4)}\n`, identity: mine.identity }
}

/** "ok <A>" or "refused <code>" from keyfleet; "ok <A>" or "refused" from sops. */
const ours = async (text: string, identity: string): Promise<string> => {
    clearDataKeyMemo()
    try {
        const d = await decryptSopsFile(text, { store: 'json', identities: [identity] })
        return `ok ${d.toEnvMap().get('A') ?? '?'}`
    } catch (error) {
        return `refused ${(error as { code?: string }).code ?? String(error)}`
    }
}
const sops = (text: string, identity: string): string => {
    const r = sopsDecryptText(text, 'json', identity)
    return r.status === 0 ? `ok ${(JSON.parse(r.stdout) as { A: string }).A}` : 'refused'
}

describe('forged age entries in sops files: keyfleet = sops 3.13.2', () => {
    it('data keys of 16, 24 and 32 bytes open (crypto/aes.NewCipher takes them); 0, 31 and 33 bytes are refused as damaged', async () => {
        for (const length of [32, 16, 24, 0, 31, 33]) {
            const dataKey = randomBytes(length)
            const { text, identity } = await sopsFileWith([dataKey], [16, 24, 32].includes(length) ? dataKey : randomBytes(32))
            const expected = sops(text, identity)
            expect({ length, sops: expected }).toEqual({ length, sops: [16, 24, 32].includes(length) ? 'ok v' : 'refused' })
            expect({ length, ours: await ours(text, identity) }).toEqual({ length, ours: expected === 'ok v' ? 'ok v' : 'refused NATIVE_MALFORMED' })
            if (expected !== 'ok v' && length > 0) {
                // Canary: the refusal names the length, never the key.
                const message = await decryptSopsFile(text, { store: 'json', identities: [identity] }).then(() => '', (e: unknown) => String(e))
                for (const form of ['hex', 'base64', 'latin1'] as const) expect(message.includes(dataKey.toString(form))).toBe(false)
                expect(message).toContain(`${length}-byte data key`)
            }
        }
    }, 60_000)

    it('the first entry that opens is the data key: a 31-byte one before the right one is refused, not skipped', async () => {
        const dataKey = randomBytes(32)
        for (const [name, keys] of [['31 bytes first', [randomBytes(31), dataKey]], ['right key first', [dataKey, randomBytes(31)]], ['empty key first', [Buffer.alloc(0), dataKey]]] as const) {
            const { text, identity } = await sopsFileWith(keys, dataKey)
            const expected = sops(text, identity)
            expect({ name, sops: expected }).toEqual({ name, sops: name === 'right key first' ? 'ok v' : 'refused' })
            expect({ name, ours: await ours(text, identity) }).toEqual({ name, ours: expected === 'ok v' ? 'ok v' : 'refused NATIVE_MALFORMED' })
        }
    }, 60_000)

    it('whitespace before BEGIN: a line of U+0085 (Go unicode.IsSpace, not JavaScript trim) opens, U+FEFF does not', async () => {
        for (const ws of ['\u0085', '\ufeff', '\u00a0 ']) {
            const dataKey = randomBytes(32)
            const { text, identity } = await sopsFileWith([dataKey], dataKey, (a) => `${ws}\n${a}`)
            const expected = sops(text, identity)
            expect({ ws, sops: expected }).toEqual({ ws, sops: ws === '\ufeff' ? 'refused' : 'ok v' })
            expect({ ws, ours: await ours(text, identity) }).toEqual({ ws, ours: expected === 'ok v' ? 'ok v' : 'refused NATIVE_MALFORMED' })
        }
    }, 60_000)
})
