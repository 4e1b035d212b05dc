/**
 * Issue 4 #1: a plaintext key wrapped in `ENC[...]` must not pass the key-less
 * PR check. A value counts as encrypted only when it has sops' exact structure
 * (AES256_GCM, canonical base64 data, a 32-byte iv, a 16-byte tag, a known type).
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Finding } from '../../src/findings.js'
import { checkSecretsFile, createScanner, parseSopsConfig, validateRepository } from '../../src/validate/index.js'
import { builtinCatalog } from '../../src/catalog/index.js'
import { findLeaks } from '../helpers/canary.js'
import { vector } from '../helpers/tools.js'
import { fakeKey, makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => { f = await makeFixture() })
afterAll(() => f.cleanup())

const FILE = 'environments/prod/env.secrets'
const B64_16 = Buffer.alloc(16, 7).toString('base64')
const B64_32 = Buffer.alloc(32, 9).toString('base64')

/** The prod file sops wrote, with one line added or replaced. */
const withLine = (line: string): { text: string; at: number } => {
    const lines = f.read(FILE).split('\n')
    const at = lines.findIndex((l) => l.startsWith('DEEPINFRA_API_KEY='))
    lines.splice(at + 1, 0, line)
    return { text: lines.join('\n'), at: at + 2 }
}

const kf101 = (findings: readonly Finding[]): Finding[] => findings.filter((x) => x.code === 'KF101')

describe('a key wrapped in ENC[...] is plaintext (KF101)', () => {
    const key = fakeKey.gemini()
    const forms: Record<string, string> = {
        'bare wrapper': `ENC[${key}]`,
        'fake sops fields': `ENC[AES256_GCM,data:${key},iv:AAAA,tag:AAAA,type:str]`,
        'key as base64 data, short iv and tag': `ENC[AES256_GCM,data:${Buffer.from(key).toString('base64')},iv:AAAA,tag:AAAA,type:str]`,
        'right sizes, unknown type': `ENC[AES256_GCM,data:${Buffer.from(key).toString('base64')},iv:${B64_32},tag:${B64_16},type:secret]`,
        'right sizes, tag of 12 bytes': `ENC[AES256_GCM,data:${Buffer.from(key).toString('base64')},iv:${B64_32},tag:${Buffer.alloc(12).toString('base64')},type:str]`,
        'unpadded base64 data': `ENC[AES256_GCM,data:${Buffer.from(`${key}!`).toString('base64').replace(/=+$/, '')},iv:${B64_32},tag:${B64_16},type:str]`,
        'another cipher': `ENC[AES128_GCM,data:${Buffer.from(key).toString('base64')},iv:${B64_32},tag:${B64_16},type:str]`,
    }

    test.each(Object.entries(forms))('%s: KF101 at its line, never the value', (_, wrapped) => {
        const { text, at } = withLine(`GEMINI_API_KEY=${wrapped}`)
        const check = checkSecretsFile(text, FILE, parseSopsConfig(f.read('.sops.yaml')).config)
        expect(kf101(check.findings)).toHaveLength(1)
        expect(kf101(check.findings)[0]).toMatchObject({ file: FILE, line: at, severity: 'error' })
        expect(kf101(check.findings)[0]?.message).toContain('GEMINI_API_KEY holds a malformed ENC[...] value')
        expect(findLeaks(key, { findings: JSON.stringify(check.findings) })).toEqual([])
        expect(JSON.stringify(check.findings)).not.toContain(wrapped)
    })

    test('validate fails on both reported forms (the PR check); the output never holds the key', async () => {
        for (const wrapped of [forms['bare wrapper'] as string, forms['fake sops fields'] as string]) {
            f.write(FILE, withLine(`GEMINI_API_KEY=${wrapped}`).text)
            try {
                const findings = await validateRepository({ root: f.root, environments: ['prod'], all: true })
                expect(findings.map((x) => x.code)).toContain('KF101')
                expect(findLeaks(key, { findings: JSON.stringify(findings) })).toEqual([])
            } finally {
                f.git('checkout', '--', FILE)
            }
        }
    })

    test('the scan no longer blanks a malformed ENC[...]: the key inside is found (KF130)', () => {
        const scanner = createScanner(builtinCatalog)
        const found = scanner.scanText(`notes\nGEMINI_API_KEY=${forms['bare wrapper']}\n`, 'notes.txt')
        expect(found.map((x) => [x.code, x.line])).toEqual([['KF130', 2]])
        expect(findLeaks(key, { findings: JSON.stringify(found) })).toEqual([])
    })
})

describe('real sops ciphertext still passes', () => {
    test('the fixture files sops wrote: no findings key-less', async () => {
        expect(await validateRepository({ root: f.root })).toEqual([])
    })

    test('a sops 3.8.1 dotenv vector (other tool, other version) has no KF101/KF102 and its ENC values are not scanned', () => {
        const text = readFileSync(vector('sops-age-dotenv', 'secret.enc.env'), 'utf8')
        const check = checkSecretsFile(text, 'environments/dev/env.secrets', undefined)
        expect(check.findings).toEqual([])
        expect(check.names.map((n) => n.name)).toEqual(['secret', 'another_secret'])
        expect(createScanner(builtinCatalog).scanText(text, 'secret.enc.env')).toEqual([])
    })

    test('a well-formed ENC value inside any file is skipped by the scan', () => {
        const line = f.read(FILE).split('\n').find((l) => l.startsWith('OPENAI_API_KEY=')) as string
        expect(createScanner(builtinCatalog).scanText(`${line}\n`, 'copy.env')).toEqual([])
    })
})
