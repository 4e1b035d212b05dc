/**
 * Differential test against the real sops 3.13.2 on files it writes from
 * seeded random content and options, for every store: native output must be
 * byte for byte what `sops decrypt` prints, and a seeded tamper sweep must
 * never find a file native accepts and sops refuses. The seed is printed on
 * failure; `npm run fuzz:sops` runs it longer (KEYFLEET_FUZZ_N, KEYFLEET_FUZZ_SEED).
 */
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import type { StoreKind } from '../../../src/sops/native/index.js'
import { encrypt, generate, mutations, nativeDecrypt, rng, sopsDecrypt } from './differential.js'
import { newKey, type TestKey } from './helpers.js'

const N = Number(process.env.KEYFLEET_FUZZ_N ?? 5)
const TAMPER = Number(process.env.KEYFLEET_FUZZ_TAMPER ?? 3)
// npm test runs a fixed seed so the suite is reproducible; `npm run fuzz:sops` (which sets
// KEYFLEET_FUZZ_N) explores a fresh random seed each run and prints it.
const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? (process.env.KEYFLEET_FUZZ_N === undefined ? 4001 : Math.floor(Math.random() * 2 ** 31)))
const STORES: StoreKind[] = ['dotenv', 'json', 'yaml', 'binary']

const yamlValues = (bytes: Buffer): unknown => [parseAllDocuments(bytes.toString('utf8'))].flat().map((d) => d.toJS() as unknown)

describe(`native decryption vs sops 3.13.2 on sops-written random files (seed ${SEED}, N ${N}; rerun with KEYFLEET_FUZZ_SEED=${SEED})`, () => {
    let keys: TestKey[] = []

    for (const [s, store] of STORES.entries()) {
        it(`${store}: same bytes as sops decrypt, and no tampered file that sops refuses is accepted`, async () => {
            if (keys.length === 0) keys = [await newKey(), await newKey()]
            const r = rng(SEED + s * 7919)
            let compared = 0
            for (let i = 0; i < N; i++) {
                const c = generate(r, store)
                const recipients = r() < 0.3 ? keys : keys.slice(1)
                const identity = (keys[1] as TestKey).identity
                const encrypted = encrypt(c, recipients.map((k) => k.recipient))
                if (encrypted === undefined) continue
                const where = `seed ${SEED} ${store} case ${i}: ${c.description}`
                const ref = sopsDecrypt(encrypted, store, identity)
                const native = await nativeDecrypt(encrypted, store, identity)
                expect({ where, ok: native.ok }).toEqual({ where, ok: ref.ok })
                if (ref.ok && native.ok) {
                    if (store === 'yaml') expect({ where, values: yamlValues(native.out) }).toEqual({ where, values: yamlValues(ref.out) })
                    expect({ where, out: native.out.toString('latin1') }).toEqual({ where, out: ref.out.toString('latin1') })
                }
                compared++
                for (const m of mutations(r, encrypted, TAMPER)) {
                    const sopsT = sopsDecrypt(m.text, store, identity)
                    const nativeT = await nativeDecrypt(m.text, store, identity)
                    const what = `${where} / ${m.name}`
                    // Never accept what sops refuses; where both accept, print the same.
                    if (!sopsT.ok) expect({ what, native: nativeT.ok ? 'accepted' : 'refused' }).toEqual({ what, native: 'refused' })
                    else if (nativeT.ok) expect({ what, out: nativeT.out.toString('latin1') }).toEqual({ what, out: sopsT.out.toString('latin1') })
                }
            }
            expect(compared).toBeGreaterThan(0)
        }, 60_000 + N * (TAMPER + 2) * 2_000)
    }
})

describe('the cases issue 14 named, against sops 3.13.2', () => {
    it('binary payload that is not UTF-8; type:bytes/comment relabels; sops_version; duplicate dotenv metadata lines', async () => {
        const key = await newKey()
        const cases: { store: StoreKind; plain: Buffer; edit: (t: string) => string; name: string }[] = [
            { name: "printf 'ab\\xffcd' (binary)", store: 'binary', plain: Buffer.from('ab\xffcd', 'latin1'), edit: (t) => t },
            { name: 'str -> bytes (json)', store: 'json', plain: Buffer.from('{"a":"hello"}'), edit: (t) => t.replace('type:str', 'type:bytes') },
            { name: 'str -> comment (json)', store: 'json', plain: Buffer.from('{"a":"hello","b":["x","y"]}'), edit: (t) => t.replace('type:str', 'type:comment') },
            { name: 'str -> comment in a list (yaml)', store: 'yaml', plain: Buffer.from('b:\n  - x\n  - y\n'), edit: (t) => t.replace('type:str', 'type:comment') },
            { name: 'sops_version 3.13 (dotenv)', store: 'dotenv', plain: Buffer.from('A=1\n'), edit: (t) => t.replace('sops_version=3.13.2', 'sops_version=3.13') },
            { name: 'version missing (yaml)', store: 'yaml', plain: Buffer.from('a: 1\n'), edit: (t) => t.replace(/\n\s*version: .*/, '') },
            { name: 'second sops_mac= line (dotenv)', store: 'dotenv', plain: Buffer.from('A=1\n'), edit: (t) => `${t}${/^sops_mac=.*$/m.exec(t)?.[0] ?? ''}\n` },
        ]
        for (const c of cases) {
            const encrypted = encrypt({ store: c.store, plain: c.plain, flags: [], description: c.name }, [key.recipient])
            expect({ name: c.name, encrypted: encrypted !== undefined }).toEqual({ name: c.name, encrypted: true })
            const text = c.edit(encrypted as string)
            const ref = sopsDecrypt(text, c.store, key.identity)
            const native = await nativeDecrypt(text, c.store, key.identity)
            expect({ name: c.name, ok: native.ok }).toEqual({ name: c.name, ok: ref.ok })
            if (ref.ok && native.ok) expect({ name: c.name, out: native.out.toString('latin1') }).toEqual({ name: c.name, out: ref.out.toString('latin1') })
            if (c.store === 'binary') expect(native.ok && native.out.equals(c.plain)).toBe(true)
        }
    })
})
