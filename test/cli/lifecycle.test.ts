/**
 * The lifecycle commands end to end (in-process CLI, real sops): propose with
 * no identity at all, check and fold, recipients, rotate, agent bootstrap,
 * key pools — and a canary run over all of them.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { filesUnder, findLeaks, makeCanary } from '../helpers/canary.js'
import { demoKey, git, keyfleet, makeDemoRepo, type CliResult } from '../helpers/cli.js'
import { dataKeyHex, identitiesOf, openaiKey, realDecrypt, recipientOfDemo } from '../lifecycle/helpers.js'

/** An environment with no identity anywhere: no SOPS_AGE_KEY*, and a HOME without keys. */
const keyless = (): Record<string, string | undefined> => ({ SOPS_AGE_KEY: undefined, SOPS_AGE_KEY_FILE: undefined, HOME: mkdtempSync(join(tmpdir(), 'keyfleet-home-')) })
const read = (repo: string, path: string): string => readFileSync(join(repo, path), 'utf8')

describe('keyfleet propose / proposals', () => {
    it('proposes with no identity, passes the key-less check, folds with the CI key; sops reads the value', async () => {
        const repo = makeDemoRepo()
        const value = openaiKey()
        const proposed = await keyfleet(['propose', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${value}\n`, env: keyless() })
        expect(proposed).toMatchObject({ code: 0, stdout: `proposed OPENAI_API_KEY for dev (openai, ${value.length} chars, …${value.slice(-4)}) in environments/dev/proposals/OPENAI_API_KEY.age\n` })
        expect(proposed.stderr).toContain('sealed to the dev CI recipient only')
        expect(await keyfleet(['proposals', 'check', 'dev'], { cwd: repo, env: keyless() })).toMatchObject({ code: 0, stdout: '' })
        expect((await keyfleet(['proposals', 'ls', 'dev'], { cwd: repo, env: keyless() })).stdout).toBe('environments/dev/proposals/OPENAI_API_KEY.age\n')

        // The admin cannot open a CI-only proposal: a decrypt failure, exit 3, nothing changed.
        const admin = await keyfleet(['proposals', 'fold', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(admin.code).toBe(3)
        expect(admin.stderr).toContain('PROPOSAL_NO_IDENTITY')

        const fold = await keyfleet(['proposals', 'fold', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env: keyless() })
        expect(fold).toMatchObject({ code: 0, stdout: `applied OPENAI_API_KEY to dev (openai, ${value.length} chars, …${value.slice(-4)})\n` })
        expect(realDecrypt(repo, 'dev', demoKey(repo, 'admin')).values.get('OPENAI_API_KEY')).toBe(value)
        expect(git(repo, 'status', '--porcelain').trimEnd().split('\n').sort()).toEqual([' M environments/dev/env.secrets'])
        // Nothing left to fold: succeeds without any identity (the deploy step can always run).
        expect(await keyfleet(['proposals', 'fold', 'dev'], { cwd: repo, env: keyless() })).toMatchObject({ code: 0, stdout: 'no proposals for dev\n' })
    }, 60_000)

    it('check exits 1 with a finding for a bad proposal; propose refuses unknown names and bad values', async () => {
        const repo = makeDemoRepo()
        const first = await keyfleet(['propose', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: openaiKey(), env: keyless() })
        expect(first.code, first.stderr).toBe(0)
        writeFileSync(join(repo, 'environments/dev/proposals/GEMINI_API_KEY.age'), 'GEMINI_API_KEY=oops\n')
        const check = await keyfleet(['proposals', 'check', 'dev'], { cwd: repo, env: keyless() })
        expect(check.code).toBe(1)
        expect(check.stdout).toMatch(/^environments\/dev\/proposals\/GEMINI_API_KEY\.age: error KF150 /)
        const fold = await keyfleet(['proposals', 'fold', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') } })
        expect(fold.code).toBe(2)
        expect(fold.stderr).toContain('PROPOSALS_INVALID')
        expect(git(repo, 'status', '--porcelain')).toBe('?? environments/dev/proposals/\n')

        expect((await keyfleet(['propose', 'dev', 'NOT_A_KEY'], { cwd: repo, stdin: openaiKey(), env: keyless() })).stderr).toContain('NAME_UNKNOWN')
        expect((await keyfleet(['propose', 'dev', 'GEMINI_API_KEY'], { cwd: repo, stdin: 'nope', env: keyless() })).stderr).toContain('VALUE_FORMAT')
        const alias = await keyfleet(['propose', 'dev', 'CLAUDE_API_KEY'], { cwd: repo, stdin: `sk-ant-api03-${randomBytes(24).toString('hex')}`, env: keyless() })
        expect(alias.code, alias.stderr).toBe(0)
        expect(alias.stderr).toContain('CLAUDE_API_KEY is an alias of ANTHROPIC_API_KEY')
        expect(existsSync(join(repo, 'environments/dev/proposals/ANTHROPIC_API_KEY.age'))).toBe(true)
    }, 60_000)
})

describe('keyfleet recipients / rotate', () => {
    it('add, ls, remove: the removed identity is locked out, the data key changed, the exposed names are listed', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const alice = await recipientOfDemo(repo, 'laptop-alice')
        expect((await keyfleet(['recipients', 'add', 'stage', alice, '--comment', 'admin:alice'], { cwd: repo, env })).code).toBe(0)
        const ls = await keyfleet(['recipients', 'ls', 'stage', '--full'], { cwd: repo, env: keyless() })
        expect(ls.stdout).toContain(`stage  ${alice}  admin:alice`)
        expect(realDecrypt(repo, 'stage', demoKey(repo, 'laptop-alice')).code).toBe(0)
        const names = [...realDecrypt(repo, 'stage', demoKey(repo, 'admin')).values.keys()]
        const key = await dataKeyHex(repo, 'stage', identitiesOf(repo, 'admin'))

        const removed = await keyfleet(['recipients', 'remove', 'stage', alice], { cwd: repo, env })
        expect(removed.code).toBe(0)
        expect(removed.stdout).toContain(`it could read: ${names.join(', ')}\n`)
        expect(realDecrypt(repo, 'stage', demoKey(repo, 'laptop-alice')).code).toBe(128)
        expect(await dataKeyHex(repo, 'stage', identitiesOf(repo, 'admin'))).not.toBe(key)
        expect(read(repo, '.sops.yaml')).toBe(git(repo, 'show', 'HEAD:.sops.yaml'))

        const bad = await keyfleet(['recipients', 'remove', 'stage', 'AGE-SECRET-KEY-1ABCDEF'], { cwd: repo, env })
        expect(bad.code).toBe(2)
        expect(bad.stderr).not.toContain('AGE-SECRET-KEY-1ABCDEF')
    }, 60_000)

    it('rotate: new data key, same values, diff shows metadata only', async () => {
        const repo = makeDemoRepo()
        const before = realDecrypt(repo, 'dev', demoKey(repo, 'admin')).values
        const result = await keyfleet(['rotate', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') } })
        expect(result).toMatchObject({ code: 0, stdout: 'rotated the data key of environments/dev/env.secrets\n' })
        expect(realDecrypt(repo, 'dev', demoKey(repo, 'admin')).values).toEqual(before)
        const noKey = await keyfleet(['rotate', 'dev'], { cwd: repo, env: keyless() })
        expect(noKey.code).toBe(3)
    }, 60_000)
})

describe('keyfleet agent', () => {
    it('init writes a 0600 identity under HOME and prints its recipient; re-running keeps it', async () => {
        const home = mkdtempSync(join(tmpdir(), 'keyfleet-home-'))
        const first = await keyfleet(['agent', 'init'], { cwd: home, env: { HOME: home } })
        expect(first.code).toBe(0)
        expect(first.stdout).toMatch(/^age1[a-z0-9]{58}\n$/)
        const path = join(home, '.config/keyfleet/agent.agekey')
        expect(statSync(path).mode & 0o777).toBe(0o600)
        expect(statSync(join(home, '.config/keyfleet')).mode & 0o777).toBe(0o700)
        const identity = readFileSync(path, 'utf8')
        const again = await keyfleet(['agent', 'init'], { cwd: home, env: { HOME: home } })
        expect(again).toMatchObject({ code: 0, stdout: first.stdout })
        expect(readFileSync(path, 'utf8')).toBe(identity)
        expect(first.stdout + first.stderr + again.stdout + again.stderr).not.toContain('AGE-SECRET-KEY')
    })

    it('register keeps comments and order; refuses duplicates and bad recipients with nothing written', async () => {
        const repo = makeDemoRepo()
        const file = 'environments/prod/deployment.yaml'
        const original = read(repo, file)
        const host = (await keyfleet(['agent', 'init', '--out', 'host.agekey'], { cwd: mkdtempSync(join(tmpdir(), 'kf-host-')), env: {} })).stdout.trim()
        const ok = await keyfleet(['agent', 'register', 'prod', 'bob-laptop', '--recipient', host, '--keys', 'claude,openai', '--cloud', 'local'], { cwd: repo })
        expect(ok.code).toBe(0)
        const written = read(repo, file)
        expect(written).toBe(`${original}  - name: bob-laptop\n    cloud: local\n    target: bundle\n    recipient: ${host}\n    keys: [claude, openai]\n`)
        for (const argv of [
            ['agent', 'register', 'prod', 'bob-laptop', '--recipient', host, '--keys', 'claude', '--cloud', 'local'],
            ['agent', 'register', 'prod', 'carol', '--recipient', 'age1bogus', '--keys', 'claude', '--cloud', 'local'],
            ['agent', 'register', 'prod', 'carol', '--recipient', host, '--keys', 'NO_SUCH', '--cloud', 'local'],
            ['agent', 'register', 'prod', 'carol', '--keys', 'claude', '--cloud', 'aws'],
        ]) {
            const refused = await keyfleet(argv, { cwd: repo })
            expect(refused.code, argv.join(' ')).toBe(2)
            expect(read(repo, file)).toBe(written)
        }
        expect(readdirSync(join(repo, 'environments/prod')).sort()).toEqual(['deployment.yaml', 'env.secrets'])
    })
})

describe('key pools', () => {
    it('set stores OPENAI_API_KEY_2 next to OPENAI_API_KEY', async () => {
        const repo = makeDemoRepo()
        const second = openaiKey()
        const result = await keyfleet(['set', 'dev', 'OPENAI_API_KEY_2'], { cwd: repo, stdin: second, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(result.code).toBe(0)
        const values = realDecrypt(repo, 'dev', demoKey(repo, 'dev')).values
        expect(values.get('OPENAI_API_KEY_2')).toBe(second)
        expect(values.get('OPENAI_API_KEY')).toBeDefined()
        expect(values.get('OPENAI_API_KEY')).not.toBe(second)
    }, 60_000)
})

describe('no lifecycle command leaks the value', () => {
    const canary = makeCanary()
    const outputs: Record<string, string> = {}
    let repo: string
    let proposalText = ''

    const run = async (label: string, argv: string[], options: { stdin?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> => {
        const result = await keyfleet(argv, { cwd: repo, ...options })
        outputs[`${label} stdout`] = result.stdout
        outputs[`${label} stderr`] = result.stderr
        return result
    }

    beforeAll(async () => {
        repo = makeDemoRepo()
        const admin = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const alice = await recipientOfDemo(repo, 'laptop-alice')
        expect((await run('propose', ['propose', 'prod', 'OPENAI_API_KEY'], { stdin: canary, env: keyless() })).code).toBe(0)
        expect((await run('propose pool', ['propose', 'prod', 'OPENAI_API_KEY_2'], { stdin: canary, env: keyless() })).code).toBe(0)
        expect((await run('propose refused', ['propose', 'prod', 'GEMINI_API_KEY'], { stdin: canary, env: keyless() })).code).toBe(2)
        proposalText = readdirSync(join(repo, 'environments/prod/proposals')).map((f) => read(repo, `environments/prod/proposals/${f}`)).join('\n')
        expect((await run('check', ['proposals', 'check', 'prod'], { env: keyless() })).code).toBe(0)
        expect((await run('fold wrong key', ['proposals', 'fold', 'prod'], { env: admin })).code).toBe(3)
        expect((await run('fold', ['proposals', 'fold', 'prod'], { env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'prod') } })).code).toBe(0)
        expect((await run('recipients add', ['recipients', 'add', 'prod', alice], { env: admin })).code).toBe(0)
        expect((await run('recipients ls', ['recipients', 'ls'], { env: admin })).code).toBe(0)
        expect((await run('recipients remove', ['recipients', 'remove', 'prod', alice], { env: admin })).code).toBe(0)
        expect((await run('rotate', ['rotate', 'prod'], { env: admin })).code).toBe(0)
        expect((await run('agent register', ['agent', 'register', 'prod', 'bob', '--recipient', alice, '--keys', 'openai', '--cloud', 'local'])).code).toBe(0)
        expect(realDecrypt(repo, 'prod', demoKey(repo, 'admin')).values.get('OPENAI_API_KEY_2')).toBe(canary)
    }, 120_000)

    it('stdout and stderr of every command', () => {
        expect(Object.keys(outputs).length).toBe(22)
        expect(findLeaks(canary, outputs)).toEqual([])
    })

    it('the proposal files themselves', () => {
        expect(proposalText).toContain('-----BEGIN AGE ENCRYPTED FILE-----')
        expect(findLeaks(canary, { proposals: proposalText })).toEqual([])
    })

    it('every file in the repository except the encrypted env.secrets', () => {
        const files = filesUnder(repo, (p) => p.startsWith(join(repo, '.git')))
        const others = Object.fromEntries(Object.entries(files).filter(([p]) => !p.endsWith('/env.secrets')))
        expect(Object.keys(others).length).toBeGreaterThan(5)
        expect(findLeaks(canary, others)).toEqual([])
    })
})
