/**
 * The change report on a real git history: commits written by the real sops
 * (`set` through stdin, `unset`, `updatekeys`, `rotate`).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { changeReport, changeReportMarkdown, changeReportText, type ChangeReport, type EnvChange } from '../../src/validate/index.js'
import { findLeaks } from '../helpers/canary.js'
import { fakeKey, makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
const newOpenai = fakeKey.openai()
const newGemini = fakeKey.gemini()
const dotenv = ['--input-type', 'dotenv', '--output-type', 'dotenv']

beforeAll(async () => {
    f = await makeFixture()
    // Commit 2: dev gains a DeepInfra key.
    f.set('dev', 'DEEPINFRA_API_KEY', fakeKey.deepinfra())
    f.commit('add deepinfra to dev')
    // Commit 3: dev changes a key, adds one and removes one; prod gains a recipient (updatekeys: metadata only).
    f.set('dev', 'OPENAI_API_KEY', newOpenai)
    f.set('dev', 'GEMINI_API_KEY', newGemini)
    f.sops(['unset', ...dotenv, 'environments/dev/env.secrets', '["DEEPINFRA_API_KEY"]'])
    f.writeSopsConfig({ prod: [f.ids.prod.recipient, f.ids.admin.recipient, f.ids.stranger.recipient] })
    f.sops(['updatekeys', '-y', '--input-type', 'dotenv', 'environments/prod/env.secrets'])
    f.commit('rotate dev openai, add gemini, drop deepinfra; add a prod recipient')
    // Commit 4: prod's data key is rotated; no value changes.
    f.sops(['rotate', '-i', ...dotenv, 'environments/prod/env.secrets'])
    f.commit('rotate prod data key')
})
afterAll(() => f.cleanup())

const env = (report: ChangeReport, name: string): EnvChange => {
    const e = report.environments.find((x) => x.env === name)
    if (!e) throw new Error(`no ${name} in report`)
    return e
}
const allValues = (): string[] => [...Object.values(f.values.dev), ...Object.values(f.values.prod), newOpenai, newGemini]

describe('changeReport', () => {
    test('key-less: names added, removed, changed, unchanged; recipients; metadata only', async () => {
        const report = await changeReport({ root: f.root, base: 'HEAD~2', head: 'HEAD~1' })
        expect(report.environments.map((e) => e.env)).toEqual(['dev', 'prod'])
        expect(report.baseCommit).toBe(f.git('rev-parse', 'HEAD~2').trim())
        const dev = env(report, 'dev')
        expect(dev).toMatchObject({
            status: 'modified', added: ['GEMINI_API_KEY'], removed: ['DEEPINFRA_API_KEY'], changed: ['OPENAI_API_KEY'], unchanged: ['ANTHROPIC_API_KEY'],
            recipientsAdded: [], recipientsRemoved: [], metadataOnly: false, dataKeyRotated: false, keyed: false, hints: {},
        })
        expect(dev.agentsAffected).toEqual(['support-bot', 'research-agent'])
        const prod = env(report, 'prod')
        expect(prod).toMatchObject({ status: 'modified', added: [], removed: [], changed: [], metadataOnly: true, recipientsAdded: [f.ids.stranger.recipient], agentsAffected: [] })
        expect(prod.unchanged).toHaveLength(4)
    })

    test('only the agents that read a touched key are affected', async () => {
        const report = await changeReport({ root: f.root, base: 'HEAD~3', head: 'HEAD~2' })
        expect(env(report, 'dev')).toMatchObject({ added: ['DEEPINFRA_API_KEY'], changed: [], agentsAffected: [] })
        expect(env(report, 'prod').status).toBe('unchanged')
    })

    test('a rotated data key: every ciphertext changes; with the identity the values are the same', async () => {
        const keyless = env(await changeReport({ root: f.root, base: 'HEAD~1', head: 'HEAD' }), 'prod')
        // Key-less the values cannot be compared: re-encrypted, neither changed nor unchanged.
        expect(keyless).toMatchObject({ dataKeyRotated: true, metadataOnly: false, added: [], removed: [], changed: [], unchanged: [] })
        expect(keyless.reencrypted).toHaveLength(4)
        const keyed = env(await changeReport({ root: f.root, base: 'HEAD~1', head: 'HEAD', identities: { prod: [f.ids.prod.identity] } }), 'prod')
        expect(keyed).toMatchObject({ dataKeyRotated: true, metadataOnly: true, keyed: true, changed: [], hints: {}, agentsAffected: [] })
        expect(keyed.reencrypted).toEqual(keyless.reencrypted)
    })

    test('with the identity: a hint (provider, length, last four) for each added or changed key, nothing for the rest', async () => {
        const report = await changeReport({ root: f.root, base: 'HEAD~2', head: 'HEAD~1', identities: { dev: [f.ids.dev.identity] } })
        const dev = env(report, 'dev')
        expect(dev.hints).toEqual({
            OPENAI_API_KEY: `openai, ${newOpenai.length} chars, …${newOpenai.slice(-4)}`,
            GEMINI_API_KEY: `gemini, ${newGemini.length} chars, …${newGemini.slice(-4)}`,
        })
        expect(env(report, 'prod').keyed).toBe(false)
    })

    test('the working tree is the default head; an unknown ref is a typed error', async () => {
        f.set('dev', 'ANTHROPIC_API_KEY', fakeKey.claude())
        try {
            const report = await changeReport({ root: f.root, base: 'HEAD' })
            expect(report.head).toBe('working tree')
            expect(env(report, 'dev').changed).toEqual(['ANTHROPIC_API_KEY'])
            expect(env(report, 'prod').status).toBe('unchanged')
        } finally {
            f.git('checkout', '--', '.')
        }
        await expect(changeReport({ root: f.root, base: 'nope' })).rejects.toMatchObject({ code: 'GIT_FAILED' })
    })

    test('text and Markdown renderings: a table per environment, hints, recipients; no value in any form', async () => {
        const report = await changeReport({ root: f.root, base: 'HEAD~2', head: 'HEAD', identities: { dev: [f.ids.dev.identity], prod: [f.ids.prod.identity] } })
        const text = changeReportText(report)
        const md = changeReportMarkdown(report)
        expect(text).toMatch(/dev {2}environments\/dev\/env\.secrets {2}1 added, 1 changed/)
        expect(text).toContain(`…${newOpenai.slice(-4)}`)
        expect(md).toContain('### dev: 1 added, 1 changed')
        expect(md).toContain('| name | status | hint |')
        expect(md).toContain(`| \`OPENAI_API_KEY\` | changed | openai, ${newOpenai.length} chars, …${newOpenai.slice(-4)} |`)
        expect(md).toContain(`- Recipients added: \`${f.ids.stranger.recipient}\``)
        expect(md).toContain('- Agents affected: `support-bot`, `research-agent`')
        expect(changeReportMarkdown(report, { agentsAffected: false })).not.toContain('Agents affected')
        expect(changeReportMarkdown(report, { agentsAffected: { dev: ['x-bot'] } })).toContain('- Agents affected: `x-bot`')
        for (const value of allValues()) {
            expect(findLeaks(value, { text, md, json: JSON.stringify(report) })).toEqual([])
        }
    })

    test('Markdown escapes names a pull request chose', () => {
        const base: EnvChange = {
            env: 'dev', file: 'environments/dev/env.secrets', status: 'modified', added: ['EVIL|<img src=x>`'], removed: [], changed: [], unchanged: [],
            recipientsAdded: [], recipientsRemoved: [], metadataOnly: false, dataKeyRotated: false, reencrypted: [], statuses: {}, hints: {}, keyed: false, agentsAffected: [],
        }
        const md = changeReportMarkdown({ base: 'main', head: 'HEAD', baseCommit: 'a'.repeat(40), headCommit: 'b'.repeat(40), environments: [base] })
        const row = md.split('\n').find((l) => l.includes('EVIL'))
        expect(row).toBe('| `EVIL<img src=x>` | added |')
    })
})
