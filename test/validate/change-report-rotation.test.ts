/**
 * The change report after a data-key rotation (issue 9), on a history written
 * by the real sops: key-less, a rotation makes every ciphertext new, so the
 * report cannot tell a re-encrypted value from a changed one and must say so
 * (`re-encrypted`, values not compared) instead of claiming `changed` or
 * `unchanged`; keyed, it compares the values.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { changeReport, changeReportMarkdown, changeReportText, REENCRYPTED_NOTE, type ChangeReport, type EnvChange } from '../../src/validate/index.js'
import { findLeaks } from '../helpers/canary.js'
import { cli } from './cli-io.js'
import { fakeKey, makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
let keys: string
const newOpenai = fakeKey.openai()
const newClaude = fakeKey.claude()
const dotenv = ['--input-type', 'dotenv', '--output-type', 'dotenv']
const PROD_NAMES = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'AGENT_GATEWAY_TOKEN', 'DEEPINFRA_API_KEY']

beforeAll(async () => {
    f = await makeFixture()
    f.git('tag', 'start')
    // A rotation alone: no value changes.
    f.sops(['rotate', '-i', ...dotenv, 'environments/prod/env.secrets'])
    f.commit('rotate prod data key')
    f.git('tag', 'rotated')
    // A rotation that also changes one value: the PR a reviewer must not be misled about.
    f.sops(['rotate', '-i', ...dotenv, 'environments/prod/env.secrets'])
    f.set('prod', 'OPENAI_API_KEY', newOpenai)
    f.commit('rotate prod data key and replace the openai key')
    f.git('tag', 'rotated-and-changed')
    // dev down to one value, then that value replaced: every ciphertext is new, yet the data key is not.
    f.sops(['unset', ...dotenv, 'environments/dev/env.secrets', '["OPENAI_API_KEY"]'])
    f.commit('dev: only claude')
    f.git('tag', 'one-value')
    f.set('dev', 'ANTHROPIC_API_KEY', newClaude)
    f.commit('dev: replace the claude key')
    keys = mkdtempSync(join(tmpdir(), 'keyfleet-rotation-keys-'))
    writeFileSync(join(keys, 'prod.agekey'), `${f.ids.prod.identity}\n`, { mode: 0o600 })
})
afterAll(() => {
    f.cleanup()
    rmSync(keys, { recursive: true, force: true })
})

const prodOf = (report: ChangeReport): EnvChange => {
    const e = report.environments.find((x) => x.env === 'prod')
    if (!e) throw new Error('no prod in report')
    return e
}
/** The lines of one environment's section of the text report. */
const section = (text: string, env: string): string[] => {
    const lines = text.split('\n')
    const start = lines.findIndex((l) => l.startsWith(`${env}  `))
    const end = lines.findIndex((l, i) => i > start && l === '')
    return lines.slice(start, end < 0 ? undefined : end)
}
const keyless = async (base: string, head: string): Promise<ChangeReport> => changeReport({ root: f.root, base, head })
const keyed = async (base: string, head: string): Promise<ChangeReport> => changeReport({ root: f.root, base, head, identities: { prod: [f.ids.prod.identity] } })
const allValues = (): string[] => [...Object.values(f.values.dev), ...Object.values(f.values.prod), newOpenai, newClaude]

describe('change report after a data-key rotation', () => {
    test('key-less: every name re-encrypted (not changed, not unchanged), and the report says why', async () => {
        const report = await keyless('start', 'rotated')
        const prod = prodOf(report)
        expect(prod).toMatchObject({
            status: 'modified', dataKeyRotated: true, metadataOnly: false, keyed: false,
            added: [], removed: [], changed: [], unchanged: [], reencrypted: PROD_NAMES, hints: {}, agentsAffected: [],
        })
        expect(prod.statuses).toEqual(Object.fromEntries(PROD_NAMES.map((n) => [n, 'reencrypted'])))

        const text = section(changeReportText(report), 'prod')
        expect(text[0]).toBe('prod  environments/prod/env.secrets  data key rotated, 4 re-encrypted (values not compared key-less)')
        expect(text).toContain('  OPENAI_API_KEY       re-encrypted')
        expect(text).toContain(`  ${REENCRYPTED_NOTE}`)
        expect(text.join('\n')).not.toMatch(/\bchanged\b|unchanged|metadata only|same value/)

        const md = changeReportMarkdown(report)
        expect(md).toContain('### prod: data key rotated, 4 re\\-encrypted \\(values not compared key\\-less\\)')
        expect(md).toContain('| `OPENAI_API_KEY` | re-encrypted |')
        expect(md).toContain("- Data key rotated; values cannot be compared without a key — the deploy job's keyed report compares them.")
        expect(md).not.toMatch(/\| changed \||same value|metadata only/)
    })

    test('keyed: the same rotation is re-encrypted (same value) and metadata only', async () => {
        const report = await keyed('start', 'rotated')
        const prod = prodOf(report)
        expect(prod).toMatchObject({ dataKeyRotated: true, metadataOnly: true, keyed: true, changed: [], reencrypted: PROD_NAMES, hints: {}, agentsAffected: [] })
        expect(prod.statuses).toEqual(Object.fromEntries(PROD_NAMES.map((n) => [n, 'reencrypted-same-value'])))
        const text = section(changeReportText(report), 'prod')
        expect(text[0]).toBe('prod  environments/prod/env.secrets  data key rotated, 4 re-encrypted (same value), metadata only')
        expect(text).toContain('  OPENAI_API_KEY       re-encrypted (same value)')
        expect(text.join('\n')).not.toContain(REENCRYPTED_NOTE)
        expect(changeReportMarkdown(report)).toContain('| `OPENAI_API_KEY` | re-encrypted (same value) |  |')
    })

    test('rotation plus one changed value: key-less cannot tell (all re-encrypted, no "unchanged"); keyed shows exactly that one changed', async () => {
        const open = prodOf(await keyless('rotated', 'rotated-and-changed'))
        expect(open).toMatchObject({ dataKeyRotated: true, metadataOnly: false, changed: [], unchanged: [], reencrypted: PROD_NAMES })
        expect(Object.values(open.statuses)).toEqual(PROD_NAMES.map(() => 'reencrypted'))

        const report = await keyed('rotated', 'rotated-and-changed')
        const prod = prodOf(report)
        const others = PROD_NAMES.filter((n) => n !== 'OPENAI_API_KEY')
        expect(prod).toMatchObject({
            dataKeyRotated: true, metadataOnly: false, changed: ['OPENAI_API_KEY'], reencrypted: others,
            hints: { OPENAI_API_KEY: `openai, ${newOpenai.length} chars, …${newOpenai.slice(-4)}` },
            agentsAffected: ['support-bot', 'research-agent'],
        })
        expect(prod.statuses).toEqual({ OPENAI_API_KEY: 'changed', ...Object.fromEntries(others.map((n) => [n, 'reencrypted-same-value'])) })
        const text = section(changeReportText(report), 'prod')
        expect(text[0]).toBe('prod  environments/prod/env.secrets  1 changed, data key rotated, 3 re-encrypted (same value)')
        expect(text).toContain(`  OPENAI_API_KEY       changed                    openai, ${newOpenai.length} chars, …${newOpenai.slice(-4)}`)
        expect(text.filter((l) => / changed /.test(l))).toHaveLength(1)
        const md = changeReportMarkdown(report)
        expect(md).toContain('### prod: 1 changed, data key rotated, 3 re\\-encrypted \\(same value\\)')
        expect(md).toContain(`| \`OPENAI_API_KEY\` | changed | openai, ${newOpenai.length} chars, …${newOpenai.slice(-4)} |`)
        expect(md).toContain('| `ANTHROPIC_API_KEY` | re-encrypted (same value) |  |')
        for (const value of allValues()) {
            expect(findLeaks(value, { text: changeReportText(report), md, json: JSON.stringify(report), open: JSON.stringify(open) })).toEqual([])
        }
    })

    test('a new value in a one-value file is a change, not a rotation: the data key (age stanzas) stayed', async () => {
        const dev = (await keyless('one-value', 'HEAD')).environments.find((e) => e.env === 'dev')
        expect(dev).toMatchObject({ dataKeyRotated: false, changed: ['ANTHROPIC_API_KEY'], reencrypted: [], statuses: { ANTHROPIC_API_KEY: 'changed' }, agentsAffected: ['support-bot'] })
    })

    test('keyfleet diff --json carries the statuses; key-less text says re-encrypted, keyed says which value changed', async () => {
        const json = await cli(['diff', '--base', 'rotated', '--head', 'rotated-and-changed', '--json', '--keyless'], f.root)
        expect(json.code, json.stderr).toBe(0)
        const prod = prodOf(JSON.parse(json.stdout) as ChangeReport)
        expect(prod).toMatchObject({ changed: [], reencrypted: PROD_NAMES, statuses: Object.fromEntries(PROD_NAMES.map((n) => [n, 'reencrypted'])) })

        const text = await cli(['diff', '--base', 'rotated', '--head', 'rotated-and-changed', '--keyless'], f.root)
        expect(text.stdout).toContain('prod  environments/prod/env.secrets  data key rotated, 4 re-encrypted (values not compared key-less)')

        const withKey = await cli(['diff', '--base', 'rotated', '--head', 'rotated-and-changed', '--json', '--identity', `prod=${join(keys, 'prod.agekey')}`], f.root)
        expect(withKey.code, withKey.stderr).toBe(0)
        expect(prodOf(JSON.parse(withKey.stdout) as ChangeReport)).toMatchObject({ changed: ['OPENAI_API_KEY'], statuses: { OPENAI_API_KEY: 'changed', ANTHROPIC_API_KEY: 'reencrypted-same-value' } })
        for (const value of allValues()) {
            expect(findLeaks(value, { json: json.stdout, text: text.stdout, keyed: withKey.stdout, err: json.stderr + text.stderr + withKey.stderr })).toEqual([])
        }
    })
})
