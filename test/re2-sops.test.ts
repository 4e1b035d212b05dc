/**
 * The selection regexes mean what they mean to sops (Go RE2), checked against
 * the real sops 3.13.2: it encrypts JSON and dotenv files with `--encrypted-regex` /
 * `--unencrypted-regex` over key names holding non-breaking spaces, control
 * characters, astral-plane characters and case-folding traps; then
 * - which keys sops encrypted (ENC[…] in its output) must equal what
 *   src/re2.ts says the pattern matches, and
 * - native decryption must accept the file and print what `sops decrypt` prints.
 * Seeded: set KEYFLEET_SEED to replay; the seed is printed and in every message.
 */
import { describe, expect, it } from 'vitest'
import { compilePattern } from '../src/re2.js'
import { decryptSopsFile, formatDecrypted } from '../src/sops/native/index.js'
import { newKey, sopsDecryptText, sopsEncrypt } from './sops/native/helpers.js'

const SEED = Number(process.env.KEYFLEET_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`re2-sops: KEYFLEET_SEED=${SEED}`)

const mulberry32 = (seed: number) => () => {
    let t = (seed = (seed + 0x6d2b79f5) | 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

// Characters where JavaScript and Go disagree (NBSP, VT, U+2028, astral, Kelvin sign, long s) plus plain ones.
const POOL = ['a', 'b', 'k', 'K', 'e', 'y', 'key', 'KEY', '_', ' ', '\u00a0', '\u000b', '\t', '\u0001', '\u007f', '\u2028', '\u3000', '\ufeff',
    '\u{1F600}', '\u{10348}', 'é', '\u212a', '\u017f', 's', 'S', '1', '٣']

const PATTERNS = ['\\s', '^.{3}$', '(?i)key', '^\\w+$', '[[:space:]]', '\\S{2}', '(?i)k', '^..$', '\\pL', '(?i)s', '\\d', '(?U)a+b', '\\x{1F600}', '[^\\x00-\\x7f]', '^\\PL*$']

// Keys that every file carries, so each run exercises a name where JavaScript's RegExp answers differently.
const FIXED = ['a\u00a0b', 'x\u000by', '\u{1F600}ab', 'ab\u{1F600}', '\u212aey', 'k\u2028']

const randomKeys = (rand: () => number, n: number): string[] => {
    const keys = new Set(FIXED)
    while (keys.size < FIXED.length + n) {
        const len = 1 + Math.floor(rand() * 4)
        let key = ''
        for (let i = 0; i < len; i++) key += POOL[Math.floor(rand() * POOL.length)] as string
        keys.add(key)
    }
    return [...keys]
}

describe(`selection regexes agree with sops 3.13.2 (seed ${SEED})`, () => {
    it('encrypted_regex and unencrypted_regex select the same keys as sops, and native decrypts what sops wrote', async () => {
        const rand = mulberry32(SEED)
        const key = await newKey()
        let jsDisagrees = 0
        for (const pattern of PATTERNS) {
            for (const [flag, store] of [['--encrypted-regex', 'json'], ['--unencrypted-regex', 'json'], ['--encrypted-regex', 'dotenv']] as const) {
                // dotenv: a name is everything before the first `=` of a line that is not a comment.
                const names = randomKeys(rand, 6).filter((n) => store === 'json' || !/[=\n\r]|^#/.test(n))
                const plain = Object.fromEntries(names.map((name, i) => [name, `v${i}`]))
                const text = store === 'json' ? JSON.stringify(plain) : names.map((n, i) => `${n}=v${i}\n`).join('')
                const encrypted = sopsEncrypt(text, store, [key.recipient], [flag, pattern])
                const doc = store === 'json'
                    ? JSON.parse(encrypted) as Record<string, unknown>
                    : Object.fromEntries(encrypted.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
                const re2 = compilePattern(pattern, 'test pattern')
                for (const name of names) {
                    expect(Object.hasOwn(doc, name), `seed ${SEED}: sops kept the name ${JSON.stringify(name)}`).toBe(true)
                    const sopsEncrypted = String(doc[name]).startsWith('ENC[')
                    const matches = re2.test(name)
                    const ours = flag === '--encrypted-regex' ? matches : !matches
                    expect(ours, `seed ${SEED}: ${store} ${flag} ${JSON.stringify(pattern)} on ${JSON.stringify(name)}`).toBe(sopsEncrypted)
                    let js: boolean | undefined
                    try { js = new RegExp(pattern, 'u').test(name) } catch { js = undefined }
                    if (js !== matches) jsDisagrees++
                }
                const native = await decryptSopsFile(encrypted, { store, identities: [key.identity] })
                const reference = sopsDecryptText(encrypted, store, key.identity)
                expect(reference.status).toBe(0)
                expect(formatDecrypted(native), `seed ${SEED}: ${store} ${flag} ${JSON.stringify(pattern)}`).toBe(reference.stdout)
            }
        }
        // The test can tell the engines apart: JavaScript's RegExp gets some of these names wrong (or cannot compile the pattern).
        expect(jsDisagrees).toBeGreaterThan(0)
    })

    it('an encrypted_regex that does not compile selects nothing, as in sops (which ignores the error)', async () => {
        const key = await newKey()
        const encrypted = sopsEncrypt(JSON.stringify({ a: 'x', b: 'y' }), 'json', [key.recipient], ['--encrypted-regex', '('])
        expect(JSON.parse(encrypted)).toMatchObject({ a: 'x', b: 'y' })
        const native = await decryptSopsFile(encrypted, { store: 'json', identities: [key.identity] })
        expect(formatDecrypted(native)).toBe(sopsDecryptText(encrypted, 'json', key.identity).stdout)
    })

    it('a catastrophic pattern in the metadata decrypts without backtracking (vitest timeout is the guard)', async () => {
        const key = await newKey()
        const name = 'A'.repeat(40)
        const encrypted = sopsEncrypt(JSON.stringify({ [name]: 'x', [`${name}!`]: 'y' }), 'json', [key.recipient], ['--encrypted-regex', '^(A+)+$'])
        const native = await decryptSopsFile(encrypted, { store: 'json', identities: [key.identity] })
        expect(native.toEnvMap().get(`${name}!`)).toBe('y')
    })
})
