/**
 * The node:crypto age header path (openHeaderFast) accepts exactly what
 * age-encryption's decryptHeader accepts, on sops-written stanzas and on
 * seeded mutations of them (the seed is in the test name): the same file key, or a refusal on both.
 */
import { armor, Decrypter } from 'age-encryption'
import { describe, expect, it } from 'vitest'
import { openHeaderFast } from '../../../src/sops/native/age-unwrap.js'
import { parseSopsFile } from '../../../src/sops/native/index.js'
import { nodeX25519Identity } from '../../../src/sops/native/x25519-identity.js'
import { rng } from './differential.js'
import { newKey, sopsEncrypt } from './helpers.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

const outcome = async (f: () => Promise<Uint8Array> | Uint8Array): Promise<string> => {
    // "No match" and "damaged" are both refusals; the fast path checks the MAC's base64 strictly, as Go's age
    // (sops) does, so it may call damaged what age-encryption calls unmatched. Acceptance and the key must agree.
    try { return `ok ${Buffer.from(await f()).toString('hex')}` } catch { return 'refused' }
}

describe(`age header fast path = age-encryption (seed ${SEED})`, () => {
    it('same file key or the same kind of failure on every mutation', async () => {
        const [mine, other] = [await newKey(), await newKey()]
        const text = sopsEncrypt('A=1\n', 'dotenv', [other.recipient, mine.recipient])
        const r = rng(SEED)
        const fast = nodeX25519Identity(mine.identity)
        if (!fast) throw new Error('no fast identity')
        // The same identity object on both sides: this compares the header parsers, not the X25519 implementations.
        const slow = new Decrypter(); slow.addIdentity(fast)
        for (const stanza of parseSopsFile(text, { store: 'dotenv' }).metadata.age) {
            const blob = Buffer.from(armor.decode(stanza.enc))
            const end = blob.indexOf('\n', blob.indexOf('\n--- ') + 1) + 1
            const header = blob.subarray(0, end)
            const cases = [header]
            for (let i = 0; i < 300; i++) {
                const h = Buffer.from(header)
                const at = Math.floor(r() * (h.length - 1))
                const op = Math.floor(r() * 3)
                const b = [10, 32, 45, 65, 43, 47, 61, 0x7f, Math.floor(r() * 256)][Math.floor(r() * 9)] as number
                const m = op === 0 ? (h[at] = b, h) : op === 1 ? Buffer.concat([h.subarray(0, at), Buffer.from([b]), h.subarray(at)]) : Buffer.concat([h.subarray(0, at), h.subarray(at + 1)])
                // Keep the header ending at a `--- ` line, as openDataKey slices it.
                const macLine = m.lastIndexOf('\n--- ')
                if (macLine === -1 || m[m.length - 1] !== 10) continue
                cases.push(m)
            }
            for (const h of cases) {
                expect({ h: h.toString('latin1'), r: await outcome(() => openHeaderFast(h, [fast])) }).toEqual({ h: h.toString('latin1'), r: await outcome(() => slow.decryptHeader(h)) })
            }
        }
    })
})
