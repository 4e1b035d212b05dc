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
const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
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
