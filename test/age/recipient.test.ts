/**
 * Recipients are checked with age's bech32 checksum: known answers from age
 * itself (its README and cmd/age/testdata/hybrid.txt at FiloSottile/age
 * 10561a7, and age-keygen output in examples/demo-keys), every one-character
 * substitution refused, and the age 1.3.1 CLI as the oracle for mutations.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { identityToRecipient } from 'age-encryption'
import { assertRecipient, isRecipient, recipientKind } from '../../src/age/index.js'
import { isKeyfleetError } from '../../src/errors.js'
import { repoRoot, toolPath } from '../helpers/tools.js'
import { newKey } from '../sops/native/helpers.js'

const SEED = Number(process.env.KEYFLEET_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`recipient: KEYFLEET_SEED=${SEED}`)
const mulberry32 = (seed: number) => () => {
    let t = (seed = (seed + 0x6d2b79f5) | 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'

// age README.md (X25519) and cmd/age/testdata/hybrid.txt (ML-KEM-768 hybrid, first 120 characters shown there in full).
const AGE_X25519 = [
    'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
    'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg',
    'age1yhm4gctwfmrpz87tdslm550wrx6m79y9f2hdzt0lndjnehwj0ukqrjpyx5',
    'age12phkzssndd5axajas2h74vtge62c86xjhd6u9anyanqhzvdg6sps0xthgl',
]

const substitute = (value: string, at: number, rand: () => number): string => {
    const old = value[at] as string
    let next = old
    while (next === old) next = CHARSET[Math.floor(rand() * CHARSET.length)] as string
    return `${value.slice(0, at)}${next}${value.slice(at + 1)}`
}

describe(`age recipients with the bech32 checksum (seed ${SEED})`, () => {
    it('accepts age\'s own recipients and the age-keygen output of the demo keys', async () => {
        for (const r of AGE_X25519) expect(recipientKind(r), r).toBe('x25519')
        const dir = join(repoRoot, 'examples', 'demo-keys')
        for (const file of readdirSync(dir).filter((f) => f.endsWith('.agekey'))) {
            const text = readFileSync(join(dir, file), 'utf8')
            const pub = /# public key: (\S+)/.exec(text)?.[1] as string
            const secret = /^AGE-SECRET-KEY-1\S+$/m.exec(text)?.[0] as string
            expect(await identityToRecipient(secret), file).toBe(pub)
            expect(isRecipient(pub), file).toBe(true)
        }
        const hybrid = (await newKey('hybrid')).recipient
        expect(hybrid).toHaveLength(1959)
        expect(recipientKind(hybrid)).toBe('hybrid')
    })

    it('refuses every one-character substitution, deletion and swap (which the charset/length rule let through)', async () => {
        const rand = mulberry32(SEED)
        for (const r of AGE_X25519) {
            for (let at = 4; at < r.length; at++) {
                expect(isRecipient(substitute(r, at, rand)), `seed ${SEED}: ${r} @${at}`).toBe(false)
                if (r[at] !== r[at - 1]) expect(isRecipient(`${r.slice(0, at - 1)}${r[at]}${r[at - 1]}${r.slice(at + 1)}`), `swap @${at}`).toBe(false)
            }
            expect(isRecipient(r.slice(0, -1))).toBe(false)
        }
        const hybrid = (await newKey('hybrid')).recipient
        for (let i = 0; i < 200; i++) {
            const at = 7 + Math.floor(rand() * (hybrid.length - 7))
            expect(isRecipient(substitute(hybrid, at, rand)), `seed ${SEED}: hybrid @${at}`).toBe(false)
        }
        // Right HRP length but another type, uppercase, or a bech32 string of the wrong key size.
        expect(isRecipient(AGE_X25519[0]?.toUpperCase() as string)).toBe(false)
    })

    it('agrees with the age CLI on valid and mutated recipients', async () => {
        const rand = mulberry32(SEED ^ 0x5eed)
        const age = toolPath('age')
        const candidates = [...AGE_X25519, (await newKey()).recipient, (await newKey('hybrid')).recipient]
        for (const r of [...candidates]) candidates.push(substitute(r, 5 + Math.floor(rand() * (r.length - 5)), rand))
        for (const r of candidates) {
            const run = spawnSync(age, ['-e', '-r', r], { input: 'x', env: { PATH: process.env.PATH ?? '' } })
            expect(isRecipient(r), `seed ${SEED}: ${r.slice(0, 24)}… age exit ${run.status}`).toBe(run.status === 0)
        }
    })

    it('AGE_BAD_RECIPIENT says to check for a mistyped character', () => {
        let error: unknown
        try { assertRecipient(substitute(AGE_X25519[0] as string, 20, mulberry32(SEED)), '--recipient') } catch (e) { error = e }
        expect(isKeyfleetError(error) && error.code).toBe('AGE_BAD_RECIPIENT')
        expect((error as Error).message).toMatch(/checksum/)
    })
})
