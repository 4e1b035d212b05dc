/**
 * Issue 4 #2: an identity that opens nothing must not turn `validate` into a
 * green key-less run. A deploy job with the wrong key fails (KF140 per
 * environment); a malformed SOPS_AGE_KEY is a usage error naming the variable.
 */
import { readFileSync, rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { findLeaks } from '../helpers/canary.js'

let repo: string
beforeAll(() => { repo = makeDemoRepo() })
afterAll(() => rmSync(repo, { recursive: true, force: true }))

const validate = (argv: string[], env: Record<string, string | undefined> = {}) =>
    keyfleet(['validate', ...argv], { cwd: repo, env: { SOPS_AGE_KEY: undefined, SOPS_AGE_KEY_FILE: undefined, ...env } })

const identityOf = (who: 'laptop-alice' | 'dev'): string =>
    readFileSync(demoKey(repo, who), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-')) as string

describe('validate with an identity that opens nothing', () => {
    test('baseline: key-less, the demo repository is clean', async () => {
        const run = await validate([])
        expect(run.stdout).toContain('ok: no findings (key-less')
        expect(run.code).toBe(0)
    })

    test('--identity-file of a stranger: KF140 on every environment, exit 1', async () => {
        const run = await validate(['--identity-file', demoKey(repo, 'laptop-alice')])
        expect(run.code).toBe(1)
        const kf140 = run.stdout.split('\n').filter((l) => l.includes(' KF140 '))
        expect(kf140.map((l) => l.split(':')[0])).toEqual(['environments/dev/env.secrets', 'environments/prod/env.secrets', 'environments/stage/env.secrets'])
        expect(kf140[0]).toContain('no identity given opens dev: --identity-file')
        expect(run.stdout).not.toContain('ok: no findings')
        expect(findLeaks(identityOf('laptop-alice'), { stdout: run.stdout, stderr: run.stderr })).toEqual([])
    })

    test('SOPS_AGE_KEY holding a stranger identity: KF140 naming SOPS_AGE_KEY, never the key', async () => {
        const identity = identityOf('laptop-alice')
        const run = await validate(['--json'], { SOPS_AGE_KEY: identity })
        expect(run.code).toBe(1)
        const report = JSON.parse(run.stdout) as { findings: { code: string; message: string }[]; errors: number; keyed: string[] }
        expect(report.findings.filter((x) => x.code === 'KF140')).toHaveLength(3)
        expect(report.findings[0]?.message).toContain('SOPS_AGE_KEY holds no identity of this file\'s recipients')
        expect(report.keyed).toEqual([])
        expect(findLeaks(identity, { stdout: run.stdout, stderr: run.stderr })).toEqual([])
    })

    test('a targeted environment the identity cannot open: KF140 (as before)', async () => {
        const run = await validate(['--env', 'prod', '--identity-file', demoKey(repo, 'laptop-alice')])
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^environments\/prod\/env\.secrets: error KF140 /m)
    })

    test('an identity that opens one environment: keyed there, the others key-less, no KF140', async () => {
        const run = await validate(['--identity-file', demoKey(repo, 'dev')])
        expect(run.stdout).toContain('ok: no findings (keyed for dev;')
        expect(run.code).toBe(0)
    })

    test.each([
        ['garbage', 'not-a-key-at-all'],
        ['a bad checksum', `${'AGE-SECRET-KEY-1'}${'Q'.repeat(58)}`],
        ['a key plus garbage', `${'AGE-SECRET-KEY-1'}QQQ extra-word`],
    ])('SOPS_AGE_KEY holding %s adds no identity (as in sops), is named with its problem and never echoed', async (_, value) => {
        const run = await validate([], { SOPS_AGE_KEY: value })
        expect(run.code).toBe(3)
        expect(run.stderr).toContain('SOPS_AGE_KEY: line 1:')
        expect(run.stderr).toContain('[NATIVE_NO_IDENTITY]')
        expect(run.stderr + run.stdout).not.toContain(value)
        for (const word of value.split(' ')) expect(run.stderr + run.stdout).not.toContain(word)
    })

    test('--keyless ignores a malformed SOPS_AGE_KEY', async () => {
        const run = await validate(['--keyless'], { SOPS_AGE_KEY: 'garbage' })
        expect(run.code).toBe(0)
    })
})
