/** Random and mutated inputs never throw anything but a KeyfleetError (property tests, fast-check). */
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isKeyfleetError } from '../../../src/errors.js'
import { decryptSopsFile, identitiesFromText, parseSopsFile, type StoreKind } from '../../../src/sops/native/index.js'
import { vector } from '../../helpers/tools.js'

const STORES: StoreKind[] = ['dotenv', 'yaml', 'json', 'binary']
const onlyKeyfleet = (error: unknown): boolean => isKeyfleetError(error)

const real: [string, StoreKind, string][] = [
    ['sops-age-dotenv/secret.enc.env', 'dotenv', 'sops-age-dotenv/key.txt'],
    ['sops-age-yaml/secret.enc.yaml', 'yaml', 'sops-age-yaml/key.txt'],
    ['sops-age-json/secret.enc.json', 'json', 'sops-age-json/key.txt'],
    ['flux-binary/file.txt', 'binary', 'flux-binary/age.txt'],
]

/** A mutation: replace, insert or delete characters at random offsets. */
const mutation = fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('replace', 'insert', 'delete'), ch: fc.string({ minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 4 })
const mutate = (text: string, edits: { at: number; op: string; ch: string }[]): string => edits.reduce((t, e) => {
    const i = e.at % (t.length + 1)
    return e.op === 'insert' ? t.slice(0, i) + e.ch + t.slice(i) : e.op === 'delete' ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + e.ch + t.slice(i + 1)
}, text)

describe('fuzz', () => {
    it('parseSopsFile: random text in any store throws only KeyfleetError', () => {
        fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.constantFrom(...STORES), (text, store) => {
            try { parseSopsFile(text, { store }) } catch (error) { return onlyKeyfleet(error) }
            return true
        }), { numRuns: 500 })
    })

    it('parseSopsFile: structured near-sops inputs throw only KeyfleetError', () => {
        const arb = fc.oneof(
            fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })).map((o) => JSON.stringify({ ...o, sops: { lastmodified: 'x', mac: 'y', age: o } })),
            fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }))).map((lines) => lines.map(([k, v]) => `${k}=${v}`).concat(['sops_mac=ENC[', 'sops_lastmodified=2020-01-01T00:00:00Z']).join('\n')),
        )
        fc.assert(fc.property(arb, fc.constantFrom(...STORES), (text, store) => {
            try { parseSopsFile(text, { store }) } catch (error) { return onlyKeyfleet(error) }
            return true
        }), { numRuns: 300 })
    })

    for (const [file, store, keyFile] of real) {
        it(`decryptSopsFile: mutated ${file} throws only KeyfleetError`, async () => {
            const text = readFileSync(vector(file), 'utf8')
            const identities = identitiesFromText(readFileSync(vector(keyFile), 'utf8'))
            await fc.assert(fc.asyncProperty(mutation, async (edits) => {
                try { await decryptSopsFile(mutate(text, edits), { store, identities }) } catch (error) { return onlyKeyfleet(error) }
                return true
            }), { numRuns: 120 })
        })
    }

    it('an alias without its anchor in the metadata is NATIVE_MALFORMED, not a ReferenceError (fast-check seed -645959553)', async () => {
        const text = readFileSync(vector('sops-age-yaml/secret.enc.yaml'), 'utf8')
        const identities = identitiesFromText(readFileSync(vector('sops-age-yaml/key.txt'), 'utf8'))
        const mutated = mutate(text, [{ at: 1878525000, op: 'replace', ch: '*!' }, { at: 0, op: 'replace', ch: '#' }])
        await expect(decryptSopsFile(mutated, { store: 'yaml', identities })).rejects.toMatchObject({ code: 'NATIVE_MALFORMED' })
    })

    it('never accepts a random identity', async () => {
        const text = readFileSync(vector('flux-dotenv/env.env'), 'utf8')
        await fc.assert(fc.asyncProperty(fc.string({ maxLength: 80 }), async (identity) => {
            const error = await decryptSopsFile(text, { store: 'dotenv', identities: [identity] }).then(() => undefined, (e: unknown) => e)
            expect(error).toMatchObject({ code: 'NATIVE_NO_MATCHING_IDENTITY' })
            expect((error as Error).message.includes(identity) && identity.length > 3).toBe(false)
        }), { numRuns: 100 })
    })
})
