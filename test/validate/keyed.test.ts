/**
 * Keyed rules (KF140-KF144) on real sops-written files, decrypted in process.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import type { Finding } from '../../src/findings.js'
import { validateRepository } from '../../src/validate/index.js'
import { findLeaks } from '../helpers/canary.js'
import { makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => { f = await makeFixture() })
afterEach(() => { f.git('checkout', '--', '.') })
afterAll(() => f.cleanup())

const keyed = (): Promise<Finding[]> =>
    validateRepository({ root: f.root, identities: { dev: [f.ids.dev.identity], prod: [f.ids.prod.identity] } })
const summary = (findings: readonly Finding[]): string[] => findings.map((x) => `${x.code} ${x.file}:${x.line ?? ''}`)
const noLeaks = (findings: readonly Finding[], ...values: string[]): void => {
    for (const v of [...values, ...Object.values(f.values.dev), ...Object.values(f.values.prod)]) {
        expect(findLeaks(v, { findings: JSON.stringify(findings) })).toEqual([])
    }
}

describe('keyed rules', () => {
    test('valid keys in both environments pass', async () => {
        expect(await keyed()).toEqual([])
    })

    test('KF140: a deleted line breaks the MAC; an identity that is no recipient cannot decrypt', async () => {
        const text = f.read('environments/dev/env.secrets')
        f.write('environments/dev/env.secrets', text.split('\n').filter((l) => !l.startsWith('ANTHROPIC_API_KEY=')).join('\n'))
        const mac = (await keyed()).filter((x) => x.code === 'KF140')
        expect(summary(mac)).toEqual(['KF140 environments/dev/env.secrets:'])
        expect(mac[0]?.message).toContain('MAC')
        f.git('checkout', '--', '.')
        const wrong = await validateRepository({ root: f.root, identities: { prod: [f.ids.stranger.identity] } })
        expect(summary(wrong)).toEqual(['KF140 environments/prod/env.secrets:'])
    })

    test('KF141: a value that fails its provider format rule', async () => {
        const bad = 'sk-ant-api03-truncated'
        f.set('dev', 'ANTHROPIC_API_KEY', bad)
        const out = await keyed()
        expect(summary(out)).toEqual(['KF141 environments/dev/env.secrets:1'])
        expect(out[0]?.message).toContain(`${bad.length} chars`)
        noLeaks(out, bad)
    })

    test('KF141: a regional variant is format-checked like its global key', async () => {
        const bad = 'sk-ant-api03-truncated'
        f.set('dev', 'ANTHROPIC_API_KEY__EU', bad)
        const out = (await keyed()).filter((x) => x.code === 'KF141')
        expect(out.map((x) => x.message.split(' ')[0])).toEqual(['ANTHROPIC_API_KEY__EU'])
        noLeaks(out, bad)
    })

    test('KF142: a placeholder is no key', async () => {
        f.set('prod', 'OPENAI_API_KEY', 'your-openai-key-here')
        expect(summary(await keyed())).toEqual(['KF142 environments/prod/env.secrets:2'])
    })

    test('KF143: a production key reused in dev, reported on the lower environment', async () => {
        f.set('dev', 'ANTHROPIC_API_KEY', f.values.prod.ANTHROPIC_API_KEY)
        const out = await keyed()
        expect(summary(out)).toEqual(['KF143 environments/dev/env.secrets:1'])
        noLeaks(out)
    })

    test('KF144: one value under two names in one environment', async () => {
        f.set('dev', 'OPENAI_API_KEY_2', f.values.dev.OPENAI_API_KEY)
        const out = await keyed()
        expect(summary(out)).toEqual(['KF144 environments/dev/env.secrets:3'])
        expect(out[0]?.message).toContain('OPENAI_API_KEY_2')
        noLeaks(out)
    })

    test('keyed rules are not run key-less: the same repository passes without identities', async () => {
        f.set('dev', 'ANTHROPIC_API_KEY', f.values.prod.ANTHROPIC_API_KEY)
        expect(await validateRepository({ root: f.root })).toEqual([])
    })
})
