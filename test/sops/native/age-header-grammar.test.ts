/**
 * The node:crypto unwrap against the age CLI (Go's filippo.io/age v1.3.1, what sops 3.13.2 links) on files
 * forged by hand with a valid header MAC (age-forge.ts), so that each grammar rule is reached instead of
 * the MAC check refusing first: stanza lines and arguments, body wrapping, the X25519 stanza's form and
 * shares (low order, high bit, non-canonical), stanzas mixed with scrypt, the MAC line, the payload's
 * chunk flag and length. Outcomes are "ok <hex>", "nomatch" (no identity matched) or "refused"
 * (damaged); keyfleet must give the same one. Seeded combinations print the seed in the test name
 * (KEYFLEET_FUZZ_SEED=N replays one).
 */
import { spawnSync } from 'node:child_process'
import { createPublicKey, diffieHellman, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeAgeArmor } from '../../../src/sops/native/age-armor.js'
import { openAgePayload } from '../../../src/sops/native/age-stream.js'
import { clearDataKeyMemo, unwrapDataKey } from '../../../src/sops/native/age-unwrap.js'
import type { SopsMetadata } from '../../../src/sops/native/types.js'
import { toolPath } from '../../helpers/tools.js'
import { b64, forge, keysOf, stanzaText, x25519Stanza, type Forged } from './age-forge.js'
import { rng } from './differential.js'
import { newKey, type TestKey } from './helpers.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const INTRO = 'age-encryption.org/v1\n'
const dir = mkdtempSync(join(tmpdir(), 'keyfleet-age-grammar-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let mine: TestKey
let other: TestKey
let hybrid: TestKey
let me: ReturnType<typeof keysOf>
let identityFile: string
beforeAll(async () => {
    [mine, other, hybrid] = [await newKey(), await newKey(), await newKey('hybrid')]
    me = keysOf(mine.identity)
    identityFile = join(dir, 'key.txt')
    writeFileSync(identityFile, `${mine.identity}\n`, { mode: 0o600 })
})

const ageCli = (armored: string): string => {
    const r = spawnSync(toolPath('age'), ['-d', '-i', identityFile], { input: armored })
    if (r.status === 0) return `ok ${r.stdout.toString('hex')}`
    // "passphrase-encrypted": the CLI alone adds rejectScryptIdentity (cmd/age/age.go) to -i identities, which
    // stops on a header holding one scrypt stanza; sops calls age.Decrypt with its identities only
    // (age/keysource.go Decrypt), so for sops, as for keyfleet, such a file is one no identity matches.
    return /did not match any of the recipients|no identity matched|passphrase-encrypted/.test(r.stderr.toString()) ? 'nomatch' : 'refused'
}
/** keyfleet's outcome; with `slow`, a hybrid identity that matches nothing makes it parse the header with age-encryption. */
const ours = async (armored: string, slow = false): Promise<string> => {
    clearDataKeyMemo()
    const metadata: SopsMetadata = { version: '3.13.2', lastmodified: '', mac: '', age: [{ recipient: mine.recipient, enc: armored }], otherKeySources: [], selection: undefined, macOnlyEncrypted: false }
    try {
        return `ok ${Buffer.from(await unwrapDataKey(metadata, slow ? [mine.identity, hybrid.identity] : [mine.identity], 'f')).toString('hex')}`
    } catch (error) {
        const code = (error as { code?: string }).code
        return code === 'NATIVE_NO_MATCHING_IDENTITY' ? 'nomatch' : code === 'NATIVE_MALFORMED' ? 'refused' : `other ${String(error)}`
    }
}
const same = async (name: string, armored: string): Promise<void> => {
    const cli = ageCli(armored)
    expect({ name, armored, r: await ours(armored) }).toEqual({ name, armored, r: cli })
    expect({ name, armored, slow: await ours(armored, true) }).toEqual({ name, armored, slow: cli })
}
/** Compares every case, and checks that the ones named in `opens` do open (so a broken forge cannot pass). */
const allSame = async (cases: Record<string, string>, opens: readonly string[]): Promise<void> => {
    for (const [name, armored] of Object.entries(cases)) await same(name, armored)
    for (const name of opens) expect({ name, r: ageCli(cases[name] as string).slice(0, 3) }).toEqual({ name, r: 'ok ' })
}

const hex = (h: string): Buffer => Buffer.from(h, 'hex')
// X25519 u-coordinates whose product with any scalar is the identity: Go's curve25519.X25519 returns
// "bad input point: low order point" (x25519.go unwrap: fatal, not ErrIncorrectIdentity).
const P_MINUS_1 = 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
const LOW_ORDER = ['00'.repeat(32), `01${'00'.repeat(31)}`, 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', P_MINUS_1,
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    `${'00'.repeat(31)}80`, 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880', `${P_MINUS_1.slice(0, 62)}ff`]

/** A file for `fileKey` whose header holds `stanzas` (texts) and whose edits are `f`. */
const file = (fileKey: Buffer, stanzas: readonly string[], f: Partial<Forged> = {}, intro = INTRO): string =>
    encodeAgeArmor(forge(fileKey, { head: intro + stanzas.join(''), ...f }))

const mineStanza = (fileKey: Buffer, edit: (share: string, body: Buffer) => string = (s, b) => stanzaText(['X25519', s], b)): string => {
    const s = x25519Stanza(me.publicKey, fileKey)
    return edit(b64(s.share), s.body)
}
const otherStanza = (fileKey: Buffer): string => {
    const s = x25519Stanza(keysOf(other.identity).publicKey, fileKey)
    return stanzaText(['X25519', b64(s.share)], s.body)
}

describe('forged age headers with a valid MAC: keyfleet = age CLI, rule by rule', () => {
    it('stanza lines, arguments and body wrapping', async () => {
        const k = randomBytes(16)
        const body = (n: number): Buffer => Buffer.alloc(n, 7)
        const cases: Record<string, string> = {
            valid: file(k, [mineStanza(k)]),
            'other recipient only': file(k, [otherStanza(k)]),
            'no stanza': file(k, []),
            'unknown type, no argument': file(k, [stanzaText(['foo'], body(5)), mineStanza(k)]),
            'unknown type, 48-byte body (full line + empty line)': file(k, [stanzaText(['foo', 'bar'], body(48)), mineStanza(k)]),
            'unknown type, 96-byte body': file(k, [stanzaText(['foo'], body(96)), mineStanza(k)]),
            'full line without the short line': file(k, [`-> foo\n${b64(body(48))}\n`, mineStanza(k)]),
            'body line over 64 columns': file(k, [`-> foo\n${b64(body(51))}\n`, mineStanza(k)]),
            'short body line then a base64 line': file(k, [`-> foo\n${b64(body(45))}\n${b64(body(3))}\n`, mineStanza(k)]),
            'padded body line': file(k, [`-> foo\n${body(4).toString('base64')}\n`, mineStanza(k)]),
            'non-canonical body bits': file(k, [`-> foo\nAB\n`, mineStanza(k)]),
            'body line with CR': file(k, [`-> foo\nAAAA\r\n`, mineStanza(k)]),
            'empty argument (two spaces)': file(k, [`-> foo  bar\n\n`, mineStanza(k)]),
            'trailing space': file(k, [`-> foo \n\n`, mineStanza(k)]),
            'bare arrow': file(k, [`->\n\n`, mineStanza(k)]),
            'arrow without space': file(k, [`->foo\n\n`, mineStanza(k)]),
            'DEL in argument': file(k, [`-> foo b\x7fr\n\n`, mineStanza(k)]),
            'latin-1 byte in argument': file(k, [`-> foo b\xe9r\n\n`, mineStanza(k)]),
            'empty line between stanzas': file(k, [otherStanza(k), '\n', mineStanza(k)]),
            'scrypt stanza before ours': file(k, [stanzaText(['scrypt', b64(body(16)), '10'], body(32)), mineStanza(k)]),
            'scrypt stanza after ours': file(k, [mineStanza(k), stanzaText(['scrypt', b64(body(16)), '10'], body(32))]),
            'intro with trailing space': file(k, [mineStanza(k)], {}, 'age-encryption.org/v1 \n'),
            'intro v2': file(k, [mineStanza(k)], {}, 'age-encryption.org/v2\n'),
            'intro CRLF': file(k, [mineStanza(k)], {}, 'age-encryption.org/v1\r\n'),
        }
        await allSame(cases, ['valid', 'unknown type, no argument', 'unknown type, 48-byte body (full line + empty line)', 'unknown type, 96-byte body', 'scrypt stanza before ours', 'scrypt stanza after ours'])
    }, 60_000)

    it('the X25519 stanza: arguments, share, body, and which error stops the search', async () => {
        const k = randomBytes(16)
        const x = (edit: (share: string, body: Buffer) => string): string => mineStanza(k, edit)
        const shareOf = (share: (e: Buffer) => Buffer, secret?: Buffer): string => {
            const s = x25519Stanza(me.publicKey, k, secret ? { share, secret } : { share })
            return stanzaText(['X25519', b64(s.share)], s.body)
        }
        // u = 2 + p (< 2^255): a non-canonical encoding of u = 2, which both curves reduce.
        const two = Buffer.alloc(32); two[0] = 2
        const twoPlusP = hex('efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')
        const twoSecret = diffieHellman({ privateKey: me.secret, publicKey: createPublicKey({ key: Buffer.concat([hex('302a300506032b656e032100'), two]), format: 'der', type: 'spki' }) })
        const cases: Record<string, string> = {
            'extra argument': file(k, [x((s, b) => stanzaText(['X25519', s, 'x'], b))]),
            'no share': file(k, [x((_s, b) => stanzaText(['X25519'], b))]),
            'share of 31 bytes': file(k, [x((s, b) => stanzaText(['X25519', s.slice(0, 41)], b))]),
            'share of 33 bytes': file(k, [x((s, b) => stanzaText(['X25519', `${s}AA`], b))]),
            'padded share': file(k, [x((s, b) => stanzaText(['X25519', `${s}=`], b))]),
            'share with non-zero pad bits': file(k, [x((s, b) => stanzaText(['X25519', s.slice(0, 42) + String.fromCharCode(s.charCodeAt(42) ^ 1)], b))]),
            'body of 31 bytes': file(k, [x((s, b) => stanzaText(['X25519', s], b.subarray(0, 31)))]),
            'body of 33 bytes': file(k, [x((s, b) => stanzaText(['X25519', s], Buffer.concat([b, Buffer.alloc(1)])))]),
            'empty body': file(k, [x((s) => stanzaText(['X25519', s], Buffer.alloc(0)))]),
            'share with the high bit set': file(k, [shareOf((e) => { const h = Buffer.from(e); h[31] = (h[31] as number) | 0x80; return h })]),
            'non-canonical share (2 + p)': file(k, [shareOf(() => twoPlusP, twoSecret)]),
            'bad X25519 stanza before ours': file(k, [x((s, b) => stanzaText(['X25519', s], b.subarray(0, 31))), mineStanza(k)]),
            'bad X25519 stanza after ours': file(k, [mineStanza(k), x((s, b) => stanzaText(['X25519', s], b.subarray(0, 31)))]),
            'other recipient, then ours': file(k, [otherStanza(k), mineStanza(k)]),
            'type in lower case': file(k, [x((s, b) => stanzaText(['x25519', s], b))]),
        }
        LOW_ORDER.forEach((u, i) => { cases[`low-order share #${i}`] = file(k, [shareOf(() => hex(u), Buffer.alloc(32)), mineStanza(k)]) })
        await allSame(cases, ['share with the high bit set', 'non-canonical share (2 + p)', 'bad X25519 stanza after ours', 'other recipient, then ours'])
    }, 60_000)

    it('the MAC line and the payload', async () => {
        const k = randomBytes(16)
        const st = [mineStanza(k)]
        const cases: Record<string, string> = {
            'MAC of 31 bytes': file(k, st, { macLine: (m) => ` ${b64(m.subarray(0, 31))}\n` }),
            'MAC of 31 bytes, not our file': file(k, [otherStanza(k)], { macLine: (m) => ` ${b64(m.subarray(0, 31))}\n` }),
            'MAC of 33 bytes, not our file': file(k, [otherStanza(k)], { macLine: (m) => ` ${b64(Buffer.concat([m, Buffer.alloc(1)]))}\n` }),
            'padded MAC': file(k, st, { macLine: (m) => ` ${m.toString('base64')}\n` }),
            'MAC line with two spaces': file(k, st, { macLine: (m) => `  ${b64(m)}\n` }),
            'MAC line with an extra field': file(k, st, { macLine: (m) => ` ${b64(m)} x\n` }),
            'MAC line with CR': file(k, st, { macLine: (m) => ` ${b64(m)}\r\n` }),
            'wrong MAC': file(k, st, { macLine: (m) => ` ${b64(Buffer.from(m.map((b) => b ^ 1)))}\n` }),
            'chunk without the last flag': file(k, st, { notLast: true }),
            'trailing byte': file(k, st, { payload: (p) => Buffer.concat([p, Buffer.alloc(1)]) }),
            'payload cut by one byte': file(k, st, { payload: (p) => p.subarray(0, p.length - 1) }),
            'nonce only': file(k, st, { payload: (p) => p.subarray(0, 16) }),
            'no payload': file(k, st, { payload: () => Buffer.alloc(0) }),
        }
        await allSame(cases, [])
    }, 60_000)

    it('whitespace before the armor that Go counts as space (unicode.IsSpace) and JavaScript does not, or the reverse', async () => {
        const k = randomBytes(16)
        const armored = file(k, [mineStanza(k)])
        // U+0085 (NEL) is space to Go's unicode.IsSpace (armor.go: bytes.TrimSpace) but not to String.prototype.trim;
        // U+FEFF is the reverse.
        const cases: Record<string, string> = {}
        for (const ws of ['\u0085', '\u00a0', '\u2028', '\u3000', '\ufeff', ' \t', '\u0085\u0085']) cases[`line of ${JSON.stringify(ws)} before BEGIN`] = `${ws}\n${armored}`
        await allSame(cases, ['line of "\u0085" before BEGIN', 'line of "\u00a0" before BEGIN'])
    }, 60_000)
})

describe('the age payload (STREAM): openAgePayload = age CLI', () => {
    it('chunk sizes, the last-chunk flag, empty chunks, truncation and trailing data', async () => {
        const k = randomBytes(16)
        const st = [mineStanza(k)]
        const K = 64 * 1024
        const full = randomBytes(K)
        const chunkCases: Record<string, { plain: Buffer; last: boolean }[]> = {
            'empty plaintext (one empty last chunk)': [{ plain: Buffer.alloc(0), last: true }],
            '16 bytes': [{ plain: randomBytes(16), last: true }],
            'one full chunk, flagged last': [{ plain: full, last: true }],
            'one full chunk, not flagged, nothing after': [{ plain: full, last: false }],
            'full chunk then one byte': [{ plain: full, last: false }, { plain: randomBytes(1), last: true }],
            'two full chunks': [{ plain: full, last: false }, { plain: full, last: true }],
            'full chunk then an empty last chunk': [{ plain: full, last: false }, { plain: Buffer.alloc(0), last: true }],
            'two chunks, both flagged last': [{ plain: full, last: true }, { plain: randomBytes(1), last: true }],
            'two chunks, the second not flagged': [{ plain: full, last: false }, { plain: randomBytes(1), last: false }],
        }
        const OPENS = ['empty plaintext (one empty last chunk)', '16 bytes', 'one full chunk, flagged last', 'full chunk then one byte', 'two full chunks']
        const cases = Object.entries(chunkCases).map(([name, chunks]) => ({ name, bin: forge(k, { head: INTRO + st.join(''), chunks }) }))
        const plain = forge(k, { head: INTRO + st.join('') })
        cases.push({ name: 'trailing byte', bin: Buffer.concat([plain, Buffer.alloc(1)]) }, { name: 'cut in the tag', bin: plain.subarray(0, plain.length - 1) },
            { name: 'nonce cut to 15 bytes', bin: plain.subarray(0, plain.length - 49) })
        for (const { name, bin } of cases) {
            const payload = bin.subarray(bin.indexOf('\n', bin.indexOf('\n--- ') + 1) + 1)
            let r: string
            try { r = `ok ${openAgePayload(k, payload).toString('hex')}` } catch { r = 'refused' }
            const cli = ageCli(encodeAgeArmor(bin))
            expect({ name, r }).toEqual({ name, r: cli })
            expect({ name, opens: cli.startsWith('ok ') }).toEqual({ name, opens: OPENS.includes(name) })
        }
    }, 60_000)
})

describe(`forged age headers, seeded combinations (seed ${SEED})`, () => {
    it('random stanza lists, each with at most one grammar edit: keyfleet = age CLI', async () => {
        const r = rng(SEED)
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
        const edits: ((line: string) => string)[] = [
            (l) => l, (l) => `${l} `, (l) => l.replace(' ', '  '), (l) => l.replace('-> ', '->'), (l) => `${l}=`,
            (l) => l.slice(0, -1), (l) => `${l}A`, (l) => `${l}\r`, (l) => l.replace(/ \S+$/, ''), (l) => `${l} x`,
        ]
        for (let n = 0; n < 40; n++) {
            const k = randomBytes(16)
            const stanzas: string[] = []
            const count = 1 + Math.floor(r() * 3)
            const at = Math.floor(r() * (count + 1))
            for (let i = 0; i < count; i++) {
                stanzas.push(i === at ? mineStanza(k) : r() < 0.5 ? otherStanza(k) : stanzaText([pick(['foo', 'scrypt', 'X25519x', 'ssh-ed25519']), pick(['a', 'AAAA', '10'])], Buffer.alloc(Math.floor(r() * 100), 3)))
            }
            // One edit of one line of one stanza (its opening line or a body line), or none.
            const target = Math.floor(r() * stanzas.length)
            const lines = (stanzas[target] as string).split('\n')
            const line = Math.floor(r() * (lines.length - 1))
            lines[line] = pick(edits)(lines[line] as string)
            stanzas[target] = lines.join('\n')
            await same(`seed ${SEED} case ${n}: ${JSON.stringify(stanzas)}`, file(k, stanzas))
        }
    }, 120_000)
})
