/**
 * decodeAgeArmor against Go's armor reader (what sops 3.13.2 reads every age entry with), through the
 * age CLI (.tools/bin/age, same Go package): on a real entry and on hand-picked and seeded edits of its
 * whitespace, line ends, padding and lines, keyfleet opens exactly what `age -d` opens, with the same
 * bytes (the seed is in the test name; KEYFLEET_FUZZ_SEED=N replays one). Also: encode → decode round trips.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { armor } from 'age-encryption'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeAgeArmor, encodeAgeArmor } from '../../../src/sops/native/age-armor.js'
import { clearDataKeyMemo, unwrapDataKey } from '../../../src/sops/native/age-unwrap.js'
import type { SopsMetadata } from '../../../src/sops/native/types.js'
import { toolPath } from '../../helpers/tools.js'
import { rng } from './differential.js'
import { newKey } from './helpers.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const dir = mkdtempSync(join(tmpdir(), 'keyfleet-age-armor-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const END = '-----END AGE ENCRYPTED FILE-----'

const setup = async (): Promise<{ enc: string; check: (armored: string) => Promise<void> }> => {
    const key = await newKey()
    const identityFile = join(dir, 'key.txt')
    writeFileSync(identityFile, `${key.identity}\n`, { mode: 0o600 })
    const made = spawnSync(toolPath('age'), ['-a', '-r', key.recipient], { input: randomBytes(32) })
    expect(made.status).toBe(0)
    const metadata = (enc: string): SopsMetadata =>
        ({ version: '3.13.2', lastmodified: '', mac: '', age: [{ recipient: key.recipient, enc }], otherKeySources: [], selection: undefined, macOnlyEncrypted: false })
    const check = async (armored: string): Promise<void> => {
        const cli = spawnSync(toolPath('age'), ['-d', '-i', identityFile], { input: armored })
        const theirs = cli.status === 0 ? `ok ${cli.stdout.toString('hex')}` : 'refused'
        clearDataKeyMemo()
        let ours: string
        try { ours = `ok ${Buffer.from(await unwrapDataKey(metadata(armored), [key.identity], 'f')).toString('hex')}` } catch { ours = 'refused' }
        expect({ armored, ours }).toEqual({ armored, ours: theirs })
    }
    return { enc: made.stdout.toString('latin1'), check }
}

describe(`age armor decode = Go's armor reader via the age CLI (seed ${SEED})`, () => {
    it('hand-picked whitespace and line edits of a real entry', async () => {
        const { enc, check } = await setup()
        const lines = enc.split('\n')               // BEGIN, full lines…, last line, END, ''
        const last = lines.length - 3
        const withLine = (i: number, f: (l: string) => string): string => lines.map((l, j) => (j === i ? f(l) : l)).join('\n')
        const cases = [
            enc, enc.replaceAll('\n', '\r\n'), `\n\n${enc}`, `  \t\n${enc}`, `\u00a0\n${enc}`, `  ${enc}`,
            `${enc}  \n\t`, `${enc}\u00a0\u2028`, `${enc}${' '.repeat(1023)}`, `${enc}${' '.repeat(1024)}`, `${' \n'.repeat(600)}${enc}`,
            enc.replace(`${END}\n`, `${END} \n`), enc.replace(`${END}\n`, `${END}\r\r\n`), enc.replace(`${END}\n`, END), enc.replace(`${END}\n`, ''),
            withLine(1, (l) => `\r${l}`), withLine(last, (l) => `\r${l}`), withLine(last, (l) => `${l.slice(0, 4)}\r${l.slice(4)}`),
            withLine(last, (l) => `${l}\r`), withLine(1, (l) => `${l} `), withLine(last, (l) => ` ${l}`), withLine(0, (l) => `${l} `),
            withLine(1, (l) => `${l}\n`), withLine(last, (l) => `${l}\n`), `${enc}x`, `${enc}\n\n-----BEGIN AGE ENCRYPTED FILE-----\n`,
        ]
        for (const armored of cases) await check(armored)
    }, 120_000)

    it('seeded edits: whitespace, line ends, padding and base64 letters inserted, replaced or deleted', async () => {
        const { enc, check } = await setup()
        const r = rng(SEED)
        const alphabet = ['\n', '\r', ' ', '\t', '\u00a0', '=', '-', 'A', '+', '/', '_', '\r\n', '==']
        for (let i = 0; i < 120; i++) {
            const at = Math.floor(r() * enc.length)
            const op = Math.floor(r() * 3)
            const c = alphabet[Math.floor(r() * alphabet.length)] as string
            await check(op === 0 ? enc.slice(0, at) + c + enc.slice(at + 1) : op === 1 ? enc.slice(0, at) + c + enc.slice(at) : enc.slice(0, at) + enc.slice(at + 1))
        }
    }, 120_000)

    it('encodes as age writes armor, for every length around the line size, and decodes it back', () => {
        for (let n = 0; n <= 200; n++) {
            const bytes = randomBytes(n)
            expect(encodeAgeArmor(bytes)).toBe(armor.encode(bytes))
            expect(Buffer.from(decodeAgeArmor(encodeAgeArmor(bytes))).equals(bytes)).toBe(true)
        }
    })
})
