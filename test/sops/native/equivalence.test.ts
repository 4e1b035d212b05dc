/**
 * Files written by the real sops in this test decrypt natively to exactly what
 * `sops decrypt` prints. dotenv and JSON are compared as printed text; YAML is
 * compared as printed text too where yaml.v3's layout is reproduced (and as a
 * parsed tree everywhere).
 */
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { decryptSopsFile, formatDecrypted, type StoreKind } from '../../../src/sops/native/index.js'
import { newKey, sopsDecryptText, sopsEncrypt, type TestKey } from './helpers.js'

const unicode = 'héllo wörld ✓ 日本語 🔑 "quoted" \\back'
const big = 'k'.repeat(4096)

const check = async (plaintext: string, store: StoreKind, keys: readonly TestKey[], extra: readonly string[] = [], exactYaml = true): Promise<string> => {
    const encrypted = sopsEncrypt(plaintext, store, keys.map((k) => k.recipient), extra)
    const reference = sopsDecryptText(encrypted, store, keys[keys.length - 1]?.identity as string)
    expect(reference.status).toBe(0)
    // Decrypt with the last recipient's identity only, so stanzas before it are skipped.
    const native = await decryptSopsFile(encrypted, { store, identities: [keys[keys.length - 1]?.identity as string] })
    const printed = formatDecrypted(native)
    if (store === 'yaml') {
        const docs = (text: string): unknown[] => [parseAllDocuments(text)].flat().map((d) => d.toJS() as unknown)
        expect(docs(printed)).toEqual(docs(reference.stdout))
        if (exactYaml) expect(printed).toBe(reference.stdout)
    } else {
        expect(printed).toBe(reference.stdout)
    }
    return encrypted
}

describe('native decryption equals sops decrypt', () => {
    it('dotenv: one and three recipients, unicode, 4 KiB, empty, comments, \\n escapes', async () => {
        const keys = [await newKey(), await newKey(), await newKey()]
        const text = `# a comment\nOPENAI_API_KEY=sk-proj-abc\nUNICODE=${unicode}\nBIG=${big}\nEMPTY=\nMULTI=line1\\nline2\nPLAIN_unencrypted=visible\n`
        await check(text, 'dotenv', keys.slice(0, 1))
        await check(text, 'dotenv', keys)
    })

    it('yaml: nesting, lists, types, comments, unicode, 4 KiB, empty string, null', async () => {
        const keys = [await newKey(), await newKey(), await newKey()]
        const text = [
            '# top comment', 'name: agent', 'count: 3', 'ratio: 0.25', 'on: true', 'nothing: null', 'empty: ""',
            `uni: "${unicode.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`, `big: ${big}`, 'nested:', '  deeper:', '    key: sk-ant-xyz',
            '  list:', '    - one', '    - 2', '    - false', 'when: 2024-05-01', 'quoted: "yes"', 'colon: "a: b"', 'x_unencrypted: 0o17', '',
        ].join('\n')
        await check(text, 'yaml', keys.slice(0, 1))
        await check(text, 'yaml', keys)
    })

    it('yaml: several documents share one MAC', async () => {
        await check('a: 1\n---\nb: two\n', 'yaml', [await newKey()])
    })

    it('json: types, nesting, unicode, 4 KiB, empty, HTML characters', async () => {
        const keys = [await newKey(), await newKey(), await newKey()]
        const text = JSON.stringify({ s: 'x<y>&z', n: 7, f: 1.5, big: 12345678901234567, neg: -0.000001, t: true, nul: null, e: '', uni: unicode, blob: big, nested: { a: [1, 'two', { b: 'c' }] }, '2': 'numeric key first?', '1': 'order' })
        await check(text, 'json', keys.slice(0, 1))
        await check(text, 'json', keys)
    })

    it('binary store', async () => {
        await check(`raw bytes ${unicode}\nsecond line\n`, 'binary', [await newKey()])
    })

    it('encrypted_regex and mac_only_encrypted', async () => {
        const key = await newKey()
        const doc = 'apiVersion: v1\nkind: Secret\nstringData:\n  key: value\n  other: 5\n'
        await check(doc, 'yaml', [key], ['--encrypted-regex', '^(data|stringData)$'])
        await check(doc, 'yaml', [key], ['--encrypted-regex', '^(data|stringData)$', '--mac-only-encrypted'])
        await check('A=1\nB_unencrypted=2\n', 'dotenv', [key], ['--mac-only-encrypted'])
        await check(JSON.stringify({ keep: 'x', secret: 'y' }), 'json', [key], ['--unencrypted-regex', '^keep$'])
    })

    it('encrypted_comment_regex / unencrypted_comment_regex', async () => {
        const key = await newKey()
        await check('# sops:enc\nsecret: a\nplain: b\n', 'yaml', [key], ['--encrypted-comment-regex', 'sops:enc'])
        await check('# nosecret\nplain: a\nsecret: b\n', 'yaml', [key], ['--unencrypted-comment-regex', 'nosecret'])
    })

    it('post-quantum hybrid recipient written by sops 3.13', async () => {
        const keys = [await newKey('hybrid'), await newKey()]
        await check('ANTHROPIC_API_KEY=sk-ant-api03-xyz\n', 'dotenv', keys.slice(0, 1))
        await check('ANTHROPIC_API_KEY=sk-ant-api03-xyz\n', 'dotenv', keys)
    })
})
