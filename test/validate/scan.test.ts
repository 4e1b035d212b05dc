/**
 * The plaintext-key scan (KF130): detectors, exclusions and git scopes.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { builtinCatalog, parseCatalog } from '../../src/catalog/index.js'
import { createScanner, scanForPlaintextKeys } from '../../src/validate/index.js'
import { looksFake } from '../../src/validate/patterns.js'
import { findLeaks } from '../helpers/canary.js'
import { CATALOG, alnum, fakeKey, makeFixture } from './fixture.js'

const catalog = parseCatalog(CATALOG).catalog ?? builtinCatalog
const scanner = createScanner(catalog)

/** A value with sops' exact ENC structure (base64 data, 32-byte iv, 16-byte tag): what the scan skips. */
const wellFormedEnc = (plain: string): string =>
    `ENC[AES256_GCM,data:${Buffer.from(plain).toString('base64')},iv:${Buffer.alloc(32, 1).toString('base64')},tag:${Buffer.alloc(16, 2).toString('base64')},type:str]`

describe('scanText', () => {
    test.each(Object.entries({
        claude: fakeKey.claude, openai: fakeKey.openai, gemini: fakeKey.gemini, fireworks: fakeKey.fireworks, gateway: fakeKey.gateway,
    }))('finds a %s key by its prefix, in code, with file, line and a hint but never the key', (service, make) => {
        const key = make()
        const text = `const a = 1\nclient = new Client({ apiKey: "${key}" })\n`
        const out = scanner.scanText(text, 'src/app.ts')
        expect(out).toHaveLength(1)
        expect(out[0]).toMatchObject({ code: 'KF130', severity: 'error', file: 'src/app.ts', line: 2 })
        expect(out[0]?.message).toContain(`${key.length} chars, …${key.slice(-4)}`)
        expect(out[0]?.message).toContain(`plaintext ${service} key (${service},`)
        expect(findLeaks(key, { out: JSON.stringify(out) })).toEqual([])
    })

    test('a key without a prefix (DeepInfra) is found only when assigned to its name', () => {
        const key = fakeKey.deepinfra()
        expect(scanner.scanText(`DEEPINFRA_API_KEY=${key}\n`, '.env').map((f) => f.line)).toEqual([1])
        // An alias not in this catalog: found by the generic-token rule (a high-entropy value for a *_TOKEN name).
        expect(scanner.scanText(`  "DEEPINFRA_TOKEN": "${key}",\n`, 'x.json').map((f) => f.message)).toEqual([expect.stringContaining('rule generic-token')])
        expect(scanner.scanText(`checksum: ${key}\n`, 'x.yaml')).toEqual([])
    })

    test('an assignment of an alias or pool member is checked against the canonical format', () => {
        expect(scanner.scanText(`export CLAUDE_API_KEY='${fakeKey.claude()}'\nOPENAI_API_KEY_2=${fakeKey.openai()}\n`, 'run.sh')).toHaveLength(2)
    })

    test('no finding for placeholders, short look-alikes, words ending in sk- and SOPS ciphertext', () => {
        const text = [
            'OPENAI_API_KEY=sk-...',
            'ANTHROPIC_API_KEY=<your-key>',
            'DEEPINFRA_API_KEY=changeme',
            'task-abcdefghijklmnopqrstuvwxyz0123',
            'sk-ant-api03-short',
            `OPENAI_API_KEY=${wellFormedEnc(alnum(40))}`,
            `value: ${wellFormedEnc(`sk-proj-${alnum(40)}`)}`,
        ].join('\n')
        expect(scanner.scanText(text, 'environments/dev/env.secrets')).toEqual([])
    })

    test('a key inside a malformed ENC[...] (not sops structure) is not treated as ciphertext', () => {
        const key = `sk-proj-${alnum(40)}`
        const found = scanner.scanText(`value: ENC[AES256_GCM,data:${key},iv:x,tag:y,type:str]\n`, 'config.yaml')
        expect(found.map((x) => [x.code, x.line])).toEqual([['KF130', 1]])
        expect(findLeaks(key, { found: JSON.stringify(found) })).toEqual([])
    })

    test('obvious fakes (ascending runs, repeated characters or chunks) are not flagged; random keys are', () => {
        const fakes = ['sk-proj-abcdefghijklmnopqrstuv', 'AIzaSyA-1234567890ab' + 'x'.repeat(15), 'sk-proj-leakedleakedleaked', 'sk-proj-OLDoldOLDoldOLDold12', 'sk-proj-fromTheFile0000000001']
        for (const fake of fakes) expect(looksFake(fake), fake).toBe(true)
        expect(scanner.scanText(fakes.join('\n'), 'test/x.test.ts')).toEqual([])
        for (let i = 0; i < 200; i++) expect(looksFake(fakeKey.openai())).toBe(false)
    })

    test('a line marked keyfleet:allow is skipped; the next line is not', () => {
        const out = scanner.scanText(`k = "${fakeKey.openai()}" # keyfleet:allow openai\nk2 = "${fakeKey.openai()}"\n`, 'x.py')
        expect(out.map((f) => f.line)).toEqual([2])
    })

    test('two keys on one line are two findings; an Anthropic key is not also reported as OpenAI', () => {
        const out = scanner.scanText(`${fakeKey.claude()} ${fakeKey.openai()}\n`, 'x')
        expect(out).toHaveLength(2)
        expect(out[0]?.message).toContain('claude')
        expect(out[1]?.message).toContain('openai')
    })
})

describe('scanForPlaintextKeys over git', () => {
    type F = Awaited<ReturnType<typeof makeFixture>>
    let f: F
    beforeAll(async () => { f = await makeFixture() })
    afterAll(() => f.cleanup())

    test('scopes: changed since a ref, staged content, every tracked file; a key in a .age file that is not age is found', async () => {
        const committed = fakeKey.gemini()
        f.write('docs/old.md', `old leak ${committed}\n`)
        f.write('secret.age', `AIza${alnum(35)}\n`)
        f.commit('old leak')
        const base = f.git('rev-parse', 'HEAD').trim()
        expect(await scanForPlaintextKeys({ root: f.root, scope: { kind: 'changed', base }, catalog })).toEqual([])
        const all = await scanForPlaintextKeys({ root: f.root, scope: { kind: 'all' }, catalog })
        expect(all.map((x) => [x.file, x.line])).toEqual([['docs/old.md', 1], ['secret.age', 1]])

        const fresh = fakeKey.claude()
        f.write('src/new.ts', `// nothing\nexport const key = '${fresh}'\n`)
        const changed = await scanForPlaintextKeys({ root: f.root, scope: { kind: 'changed', base }, catalog })
        expect(changed.map((x) => [x.file, x.line])).toEqual([['src/new.ts', 2]])
        expect(await scanForPlaintextKeys({ root: f.root, scope: { kind: 'staged' }, catalog })).toEqual([])
        f.git('add', 'src/new.ts')
        // The staged version is what gets committed: fixing only the working tree does not help.
        f.write('src/new.ts', 'export const key = process.env.KEY\n')
        const staged = await scanForPlaintextKeys({ root: f.root, scope: { kind: 'staged' }, catalog })
        expect(staged.map((x) => [x.file, x.line])).toEqual([['src/new.ts', 2]])
        f.git('commit', '-q', '-m', 'leak')
        const atHead = await scanForPlaintextKeys({ root: f.root, scope: { kind: 'changed', base, head: 'HEAD' }, catalog })
        expect(atHead.map((x) => x.file)).toEqual(['src/new.ts'])
        expect(findLeaks(fresh, { out: JSON.stringify([...changed, ...staged, ...atHead]) })).toEqual([])
        expect(findLeaks(committed, { out: JSON.stringify(all) })).toEqual([])
    })

    test('named files: relative to the root or absolute; a file that cannot be read is an error, not a clean scan', async () => {
        const key = fakeKey.openai()
        f.write('named/notes.txt', `OPENAI_API_KEY=${key}\n`)
        const relative = await scanForPlaintextKeys({ root: f.root, scope: { kind: 'files', files: ['named/notes.txt'] }, catalog })
        expect(relative.map((x) => [x.file, x.line])).toEqual([['named/notes.txt', 1]])
        const absolute = join(f.root, 'named', 'notes.txt')
        const found = await scanForPlaintextKeys({ root: f.root, scope: { kind: 'files', files: [absolute] }, catalog })
        expect(found.map((x) => [x.file, x.line])).toEqual([[absolute, 1]])
        await expect(scanForPlaintextKeys({ root: f.root, scope: { kind: 'files', files: ['named/no-such-file.txt'] }, catalog }))
            .rejects.toMatchObject({ code: 'FILE_NOT_READABLE', message: expect.stringContaining('named/no-such-file.txt') })
        expect(findLeaks(key, { out: JSON.stringify([...relative, ...found]) })).toEqual([])
    })

    test('an unknown base ref is a typed error naming the ref', async () => {
        await expect(scanForPlaintextKeys({ root: f.root, scope: { kind: 'changed', base: 'no-such-ref' }, catalog }))
            .rejects.toMatchObject({ code: 'GIT_FAILED', message: expect.stringContaining('no-such-ref') })
    })
})
