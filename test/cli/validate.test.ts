/**
 * `keyfleet validate` in process: exit codes, text and JSON output, identity
 * sources (--identity ENV=FILE, --identity-file, SOPS_AGE_KEY), and a canary
 * run showing no output form carries a value.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { cli } from '../validate/cli-io.js'
import { makeFixture } from '../validate/fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => {
    f = await makeFixture()
    writeFileSync(join(f.root, '..', `${f.root.split('/').pop()}-dev.agekey`), `# dev\n${f.ids.dev.identity}\n`)
})
afterEach(() => { f.git('checkout', '--', '.'); f.git('clean', '-fdq') })
afterAll(() => f.cleanup())
const devKeyFile = (): string => join(f.root, '..', `${f.root.split('/').pop()}-dev.agekey`)

describe('keyfleet validate', () => {
    test('clean repository: exit 0, a one-line summary saying key-less', async () => {
        const run = await cli(['validate'], f.root)
        expect(run).toMatchObject({ code: 0, stderr: '' })
        expect(run.stdout).toBe('ok: no findings (key-less; scanned changes since HEAD)\n')
    })

    test('error findings: exit 1, file:line: severity code message; --json has the same findings', async () => {
        const text = f.read('environments/dev/env.secrets').split('\n')
        text[0] = 'ANTHROPIC_API_KEY=not-encrypted-at-all'
        f.write('environments/dev/env.secrets', text.join('\n'))
        const run = await cli(['validate'], f.root)
        expect(run.code).toBe(1)
        expect(run.stdout).toContain('environments/dev/env.secrets:1: error KF101 ANTHROPIC_API_KEY holds a plaintext value')
        const json = await cli(['validate', '--json', '--env', 'dev'], f.root)
        expect(json.code).toBe(1)
        const parsed = JSON.parse(json.stdout) as { findings: { code: string; line: number }[]; errors: number; keyed: string[] }
        expect(parsed.findings.map((x) => [x.code, x.line])).toEqual([['KF101', 1]])
        expect(parsed).toMatchObject({ errors: 1, keyed: [] })
        expect(run.stdout + json.stdout).not.toContain('not-encrypted-at-all')
    })

    test('identities: per environment, from a file for every environment it opens, from SOPS_AGE_KEY; --keyless ignores the variable', async () => {
        f.set('dev', 'OPENAI_API_KEY', 'changeme')
        const perEnv = await cli(['validate', '--json', '--identity', `dev=${devKeyFile()}`], f.root)
        expect(JSON.parse(perEnv.stdout)).toMatchObject({ keyed: ['dev'], findings: [{ code: 'KF142', line: 2 }] })
        expect(perEnv.code).toBe(1)
        const file = await cli(['validate', '--json', '--identity-file', devKeyFile()], f.root)
        expect(JSON.parse(file.stdout).keyed).toEqual(['dev'])
        const admin = await cli(['validate', '--json'], f.root, { SOPS_AGE_KEY: f.ids.admin.identity })
        expect(JSON.parse(admin.stdout).keyed).toEqual(['dev', 'prod'])
        const keyless = await cli(['validate', '--json', '--keyless'], f.root, { SOPS_AGE_KEY: f.ids.admin.identity })
        expect(JSON.parse(keyless.stdout)).toMatchObject({ keyed: [], findings: [] })
        expect(keyless.code).toBe(0)
    })

    test('usage errors exit 2 with a message: unknown environment, malformed --identity, missing identity file', async () => {
        for (const argv of [['validate', '--env', 'qa'], ['validate', '--identity', 'nofile'], ['validate', '--identity-file', '/nonexistent/k.txt'], ['validate', 'extra']]) {
            const run = await cli(argv, f.root)
            expect(run.code, argv.join(' ')).toBe(2)
            expect(run.stderr).toMatch(/^keyfleet validate: .+\[[A-Z_]+\]\n$|expected: keyfleet validate/)
        }
    })

    test('canary: a planted key reaches no output of validate, scan or diff in any format', async () => {
        const canary = makeCanary()
        f.set('dev', 'OPENAI_API_KEY', canary)
        f.set('prod', 'OPENAI_API_KEY', canary) // shared with prod: KF143 names it
        f.write('leak.md', `export OPENAI_API_KEY=${canary}\n`)
        const env = { SOPS_AGE_KEY: f.ids.admin.identity }
        const all = (): Promise<Awaited<ReturnType<typeof cli>>[]> => Promise.all([
            cli(['validate'], f.root, env),
            cli(['validate', '--json', '--all'], f.root, env),
            cli(['validate', '--base', 'HEAD', '--identity', `dev=${devKeyFile()}`], f.root),
            cli(['scan', '--all'], f.root),
            cli(['scan', '--base', 'HEAD', '--json'], f.root),
            cli(['diff', '--base', 'HEAD'], f.root, env),
            cli(['diff', '--base', 'HEAD', '--json'], f.root, env),
            cli(['diff', '--base', 'HEAD', '--markdown'], f.root, env),
        ])
        const keyed = await all()
        expect(keyed[0]?.stdout).toContain('KF143')
        expect(keyed[4]?.stdout).toContain('"file": "leak.md"')
        expect(keyed[7]?.stdout).toContain('openai, ')
        // Then a hand-edited plaintext line: KF101, the MAC check fails (KF140), the diff still reports names.
        const text = f.read('environments/dev/env.secrets').split('\n')
        text.push(`FIREWORKS_API_KEY=${canary}`)
        f.write('environments/dev/env.secrets', text.join('\n'))
        const edited = await all()
        expect(edited[0]?.stdout).toContain('KF101')
        expect(edited[0]?.stdout).toContain('KF140')
        const runs = [...keyed, ...edited]
        runs.forEach((r, i) => expect(findLeaks(canary, { [`run ${i} stdout`]: r.stdout, [`run ${i} stderr`]: r.stderr })).toEqual([]))
    })
})
