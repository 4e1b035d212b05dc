/**
 * validateRepository end to end: schemas (KF120, KF121), deployment keys
 * (KF114), the scan wired to --base/--all, and usage errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import type { Finding } from '../../src/findings.js'
import { validateRepository } from '../../src/validate/index.js'
import { findLeaks } from '../helpers/canary.js'
import { DEPLOYMENT, fakeKey, makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => { f = await makeFixture() })
afterEach(() => { f.git('checkout', '--', '.'); f.git('clean', '-fdq') })
afterAll(() => f.cleanup())
const summary = (findings: readonly Finding[]): string[] => findings.map((x) => `${x.code} ${x.file}:${x.line ?? ''}`)

describe('validateRepository', () => {
    test('a clean repository has no findings, key-less, with --all', async () => {
        expect(await validateRepository({ root: f.root, all: true })).toEqual([])
    })

    test('KF120: catalog schema problems with their lines', async () => {
        f.write('environments/keyfleet.yaml', f.read('environments/keyfleet.yaml').replace("format: '^AIza[0-9A-Za-z_-]{35}$'", 'format: 42\n    colour: blue'))
        const out = await validateRepository({ root: f.root })
        expect(summary(out)).toEqual(['KF120 environments/keyfleet.yaml:15', 'KF120 environments/keyfleet.yaml:16'])
    })

    test('KF121/KF3xx and KF114: deployment structure and keys the environment lacks, with lines', async () => {
        f.write('environments/dev/deployment.yaml', DEPLOYMENT('dev', '[claude, gemini]'))
        const out = await validateRepository({ root: f.root })
        expect(summary(out)).toEqual(['KF114 environments/dev/deployment.yaml:7'])
        expect(out[0]?.message).toContain('GEMINI_API_KEY')
        f.write('environments/dev/deployment.yaml', 'environment: prod\nagents: nope\n')
        const broken = await validateRepository({ root: f.root, environments: ['dev'] })
        expect(broken.map((x) => x.code)).toContain('KF121')
        expect(broken.every((x) => x.file === 'environments/dev/deployment.yaml' && x.line !== undefined)).toBe(true)
    })

    test('the scan runs on the change with base, on everything with all; a plaintext env.secrets line is reported once', async () => {
        const key = fakeKey.claude()
        f.write('notes.txt', `the key is ${key}\n`)
        expect(await validateRepository({ root: f.root })).toEqual([])
        expect(summary(await validateRepository({ root: f.root, base: 'HEAD' }))).toEqual(['KF130 notes.txt:1'])
        const text = f.read('environments/dev/env.secrets').split('\n')
        text[1] = `OPENAI_API_KEY=${f.values.dev.OPENAI_API_KEY}`
        f.write('environments/dev/env.secrets', text.join('\n'))
        const out = await validateRepository({ root: f.root, all: true })
        expect(summary(out)).toEqual(['KF101 environments/dev/env.secrets:2'])
        const withBase = await validateRepository({ root: f.root, base: 'HEAD' })
        expect(summary(withBase)).toEqual(['KF101 environments/dev/env.secrets:2', 'KF130 notes.txt:1'])
        expect(findLeaks(key, { out: JSON.stringify(withBase) })).toEqual([])
        expect(findLeaks(f.values.dev.OPENAI_API_KEY, { out: JSON.stringify(withBase) })).toEqual([])
    })

    test('an unknown environment is a usage error', async () => {
        await expect(validateRepository({ root: f.root, environments: ['qa'] })).rejects.toMatchObject({ code: 'USAGE' })
        await expect(validateRepository({ root: f.root, identities: { qa: ['x'] } })).rejects.toMatchObject({ code: 'USAGE' })
    })
})
