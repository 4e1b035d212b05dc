/**
 * decodeAgeArmor (node's Buffer) accepts exactly what age-encryption's armor.decode accepts, with the same
 * bytes, on sops-written and age-CLI-written entries and on seeded mutations of them (the seed is in the
 * test name; KEYFLEET_FUZZ_SEED=N replays one).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { armor } from 'age-encryption'
import { describe, expect, it } from 'vitest'
import { decodeAgeArmor, encodeAgeArmor } from '../../../src/sops/native/age-armor.js'
import { parseSopsFile } from '../../../src/sops/native/index.js'
import { toolPath } from '../../helpers/tools.js'
import { rng } from './differential.js'
import { newKey, sopsEncrypt } from './helpers.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

const outcome = (f: () => Uint8Array): string => {
    try { return `ok ${Buffer.from(f()).toString('hex')}` } catch { return 'refused' }
}
const same = (text: string): void => {
    expect({ text, r: outcome(() => decodeAgeArmor(text)) }).toEqual({ text, r: outcome(() => armor.decode(text)) })
}

const BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const END = '-----END AGE ENCRYPTED FILE-----'

describe(`age armor decode = age-encryption's armor.decode (seed ${SEED})`, () => {
    it('hand-picked edges: whitespace, CRLF, line lengths, padding, pad bits, empty body', () => {
        const body64 = Buffer.alloc(48, 7).toString('base64')
        const cases = [
            `${BEGIN}\n${END}\n`, `${BEGIN}\n\n${END}\n`, `  \n${BEGIN}\r\nAAAA\r\n${END}\r\n\t `, `${BEGIN}\nAAAA\n${END}`,
            `${BEGIN}\nAA==\n${END}\n`, `${BEGIN}\nAB==\n${END}\n`, `${BEGIN}\nAAA=\n${END}\n`, `${BEGIN}\nAAB=\n${END}\n`,
            `${BEGIN}\nA===\n${END}\n`, `${BEGIN}\n====\n${END}\n`, `${BEGIN}\nAA=A\n${END}\n`, `${BEGIN}\nAAA\n${END}\n`,
            `${BEGIN}\n${body64}\n${END}\n`, `${BEGIN}\n${body64}\nAAAA\n${END}\n`, `${BEGIN}\n${body64.slice(4)}\nAAAA\n${END}\n`,
            `${BEGIN}\n${body64}AAAA\n${END}\n`, `${BEGIN}\nAA==\nAAAA\n${END}\n`, `${BEGIN}\nAA-_\n${END}\n`, `${BEGIN}\nAA AA\n${END}\n`,
            `${BEGIN} \nAAAA\n${END}\n`, `${BEGIN}\nAAAA\n${END} \n`, `${BEGIN}\nAAAA\r\n${END}\n`, `${BEGIN}\r\rAAAA\n${END}\n`,
            `x${BEGIN}\nAAAA\n${END}\n`, `${BEGIN}\nAAAA\n${END}\nx`, `${BEGIN}\nAAAA\n`, `AAAA\n${END}\n`, '',
        ]
        for (const text of cases) same(text)
    })

    it('encodes as armor.encode does, for every length around the line size', () => {
        for (let n = 0; n <= 200; n++) {
            const bytes = randomBytes(n)
            expect(encodeAgeArmor(bytes)).toBe(armor.encode(bytes))
            expect(Buffer.from(decodeAgeArmor(encodeAgeArmor(bytes))).equals(bytes)).toBe(true)
        }
    })

    it('seeded mutations of real entries (sops 3.13.2 and the age CLI)', async () => {
        const key = await newKey()
        const entries = parseSopsFile(sopsEncrypt('A=1\n', 'dotenv', [key.recipient]), { store: 'dotenv' }).metadata.age.map((s) => s.enc)
        const age = spawnSync(toolPath('age'), ['-a', '-r', key.recipient], { input: randomBytes(100) })
        expect(age.status).toBe(0)
        entries.push(age.stdout.toString('latin1'))
        const r = rng(SEED)
        const alphabet = ['\n', '\r', ' ', '\t', '=', '-', 'A', 'a', '+', '/', '0', '_', '\r\n', '==']
        for (const entry of entries) {
            same(entry)
            for (let i = 0; i < 400; i++) {
                const at = Math.floor(r() * entry.length)
                const op = Math.floor(r() * 3)
                const c = alphabet[Math.floor(r() * alphabet.length)] as string
                const m = op === 0 ? entry.slice(0, at) + c + entry.slice(at + 1) : op === 1 ? entry.slice(0, at) + c + entry.slice(at) : entry.slice(0, at) + entry.slice(at + 1)
                same(m)
            }
        }
    })
})
