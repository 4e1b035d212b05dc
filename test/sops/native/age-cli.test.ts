/**
 * The node:crypto unwrap (armor, header, X25519 stanza, payload; no age-encryption loaded) against the
 * age CLI (.tools/bin/age, Go's age, what sops links): an entry the CLI wrote opens to the same 32 bytes,
 * and on seeded tampers of its header, payload and armor keyfleet opens exactly what `age -d` opens,
 * with the same bytes (the seed is in the test name; KEYFLEET_FUZZ_SEED=N replays one).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeAgeArmor } from '../../../src/sops/native/age-armor.js'
import { clearDataKeyMemo, unwrapDataKey } from '../../../src/sops/native/age-unwrap.js'
import type { SopsMetadata } from '../../../src/sops/native/types.js'
import { toolPath } from '../../helpers/tools.js'
import { rng } from './differential.js'
import { newKey } from './helpers.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const dir = mkdtempSync(join(tmpdir(), 'keyfleet-age-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const metadataOf = (recipient: string, enc: string): SopsMetadata =>
    ({ version: '3.13.2', lastmodified: '', mac: '', age: [{ recipient, enc }], otherKeySources: [], selection: undefined, macOnlyEncrypted: false })

const armorOf = (bytes: Buffer): string => {
    const lines = ['-----BEGIN AGE ENCRYPTED FILE-----']
    for (let i = 0; i < bytes.length; i += 48) lines.push(bytes.subarray(i, i + 48).toString('base64'))
    return `${lines.join('\n')}\n-----END AGE ENCRYPTED FILE-----\n`
}

/** `age -d` of an armored text: the plaintext in hex, or 'refused'. */
const ageCli = (identityFile: string, armored: string): string => {
    const r = spawnSync(toolPath('age'), ['-d', '-i', identityFile], { input: armored })
    return r.status === 0 ? `ok ${r.stdout.toString('hex')}` : 'refused'
}
const ours = async (recipient: string, identity: string, armored: string): Promise<string> => {
    clearDataKeyMemo()
    try { return `ok ${Buffer.from(await unwrapDataKey(metadataOf(recipient, armored), [identity], 'f')).toString('hex')}` } catch { return 'refused' }
}

describe(`native unwrap = age CLI (seed ${SEED})`, () => {
    it('opens what age -a wrote for two recipients, and refuses for a third identity', async () => {
        const [mine, other, stranger] = [await newKey(), await newKey(), await newKey()]
        const key = randomBytes(32)
        const r = spawnSync(toolPath('age'), ['-a', '-r', other.recipient, '-r', mine.recipient], { input: key })
        expect(r.status).toBe(0)
        const enc = r.stdout.toString('latin1')
        expect(Buffer.from(await unwrapDataKey(metadataOf(mine.recipient, enc), [mine.identity], 'f')).equals(key)).toBe(true)
        expect(Buffer.from(await unwrapDataKey(metadataOf(mine.recipient, enc), [stranger.identity, other.identity], 'f')).equals(key)).toBe(true)
        await expect(unwrapDataKey(metadataOf(mine.recipient, enc), [stranger.identity], 'f')).rejects.toMatchObject({ code: 'NATIVE_NO_MATCHING_IDENTITY' })
    })

    it('seeded tampers of the header, payload and armor: keyfleet opens exactly what age -d opens', async () => {
        const mine = await newKey()
        const identityFile = join(dir, 'key.txt')
        writeFileSync(identityFile, `${mine.identity}\n`, { mode: 0o600 })
        const r = spawnSync(toolPath('age'), ['-a', '-r', mine.recipient], { input: randomBytes(32) })
        const enc = r.stdout.toString('latin1')
        const bin = decodeAgeArmor(enc)
        const rand = rng(SEED)
        const bytes = [10, 32, 45, 62, 65, 43, 47, 61, 0x7f, 0]
        // Whitespace edits of the armor (before BEGIN, inside lines, after END) are in age-armor.test.ts.
        const cases = [enc, enc.replaceAll('\n', '\r\n'), `${enc}  \n\t`]
        for (let i = 0; i < 60; i++) {
            const b = Buffer.from(bin)
            const at = Math.floor(rand() * b.length)
            const op = Math.floor(rand() * 3)
            const v = rand() < 0.5 ? (bytes[Math.floor(rand() * bytes.length)] as number) : Math.floor(rand() * 256)
            const m = op === 0 ? (b[at] = v, b) : op === 1 ? Buffer.concat([b.subarray(0, at), Buffer.from([v]), b.subarray(at)]) : Buffer.concat([b.subarray(0, at), b.subarray(at + 1)])
            cases.push(armorOf(m))
        }
        // Armor edits: newlines, padding, letters, deletions.
        for (let i = 0; i < 30; i++) {
            const at = 1 + Math.floor(rand() * (enc.length - 1))
            const c = ['\n', '=', 'A', '/'][Math.floor(rand() * 4)] as string
            cases.push(rand() < 0.5 ? enc.slice(0, at) + c + enc.slice(at) : enc.slice(0, at) + enc.slice(at + 1))
        }
        for (const armored of cases) {
            expect({ armored, r: await ours(mine.recipient, mine.identity, armored) }).toEqual({ armored, r: ageCli(identityFile, armored) })
        }
    }, 60_000)
})
