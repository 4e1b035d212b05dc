/**
 * `keyfleet diff` in process: text, Markdown and JSON, hints only with an identity.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { findLeaks } from '../helpers/canary.js'
import { cli } from '../validate/cli-io.js'
import { fakeKey, makeFixture } from '../validate/fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
const fresh = fakeKey.claude()
beforeAll(async () => {
    f = await makeFixture()
    f.set('prod', 'ANTHROPIC_API_KEY', fresh)
    f.commit('rotate the prod claude key')
})
afterAll(() => f.cleanup())

describe('keyfleet diff', () => {
    test('text: a table per environment, key-less without an identity', async () => {
        const run = await cli(['diff', '--base', 'HEAD~1', '--head', 'HEAD'], f.root)
        expect(run.code).toBe(0)
        expect(run.stdout).toContain('prod  environments/prod/env.secrets  1 changed')
        expect(run.stdout).toMatch(/ANTHROPIC_API_KEY\s+changed\n/)
        expect(run.stdout).toContain('agents affected: support-bot')
        expect(run.stdout).toContain('dev  environments/dev/env.secrets  no change')
    })

    test('--markdown with the prod identity: hint with provider, length, last four; --json parses', async () => {
        const md = await cli(['diff', '--base', 'HEAD~1', '--head', 'HEAD', '--markdown'], f.root, { SOPS_AGE_KEY: f.ids.prod.identity })
        expect(md.stdout).toContain(`| \`ANTHROPIC_API_KEY\` | changed | claude, ${fresh.length} chars, …${fresh.slice(-4)} |`)
        const json = await cli(['diff', '--base', 'HEAD~1', '--head', 'HEAD', '--json'], f.root)
        const report = JSON.parse(json.stdout) as { environments: { env: string; changed: string[] }[] }
        expect(report.environments.find((e) => e.env === 'prod')?.changed).toEqual(['ANTHROPIC_API_KEY'])
        expect(findLeaks(fresh, { md: md.stdout, json: json.stdout })).toEqual([])
    })

    test('--fail-on-change exits 1 on a change, 0 without; usage errors exit 2', async () => {
        expect((await cli(['diff', '--base', 'HEAD~1', '--head', 'HEAD', '--fail-on-change'], f.root)).code).toBe(1)
        expect((await cli(['diff', '--base', 'HEAD', '--fail-on-change'], f.root)).code).toBe(0)
        expect((await cli(['diff'], f.root)).code).toBe(2)
        expect((await cli(['diff', '--base', 'HEAD', '--json', '--markdown'], f.root)).code).toBe(2)
        const bad = await cli(['diff', '--base', 'no-such-branch'], f.root)
        expect(bad.code).toBe(2)
        expect(bad.stderr).toContain('no-such-branch')
    })
})
