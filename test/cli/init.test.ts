/**
 * `keyfleet init`: from `git init` to a validated three-environment repository,
 * idempotent re-runs, and `--replace-demo` leaving nothing a published demo
 * identity opens (checked with the real sops and age binaries); `keyfleet keygen`.
 */
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEMO_RECIPIENTS } from '../../src/repo/demo.js'
import { demoKey, git, keyfleet, makeDemoRepo, sopsDecrypt } from '../helpers/cli.js'
import { repoRoot, toolPath } from '../helpers/tools.js'


const ageDecrypt = (file: string, identity: string): number => {
    try {
        execFileSync(toolPath('age'), ['-d', '-i', identity, file], { stdio: ['ignore', 'ignore', 'ignore'] })
        return 0
    } catch (error) {
        return (error as { status: number }).status
    }
}

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))
const demoIdentityFiles = [...DEMO_RECIPIENTS.values()].map((f) => join(repoRoot, f))
const ENVS = ['dev', 'stage', 'prod']

/** Every file of the work tree (not .git) with its content. */
const snapshot = (dir: string, base = dir): Record<string, string> => Object.fromEntries(readdirSync(dir).flatMap((entry) => {
    if (entry === '.git') return []
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? Object.entries(snapshot(path, base)) : [[path.slice(base.length + 1), readFileSync(path, 'utf8')]]
}))

describe('keyfleet init in a new repository', () => {
    it('goes from `git init` to a validated three-environment repository, and a second run changes nothing', async () => {
        const repo = tmp('keyfleet-new-')
        git(repo, 'init', '-q', '-b', 'main')
        const keys = tmp('keyfleet-keys-')
        const init = await keyfleet(['init', '--keys-dir', keys], { cwd: repo })
        expect(init.stderr).not.toContain('[')
        expect(init.code).toBe(0)
        for (const env of ENVS) {
            expect(existsSync(join(repo, 'environments', env, 'deployment.yaml'))).toBe(true)
            // The empty env.secrets was written by sops: sops opens it with the CI identity, and with no other key.
            expect(sopsDecrypt(repo, env, join(keys, `${env}.agekey`))).toEqual({ code: 0, out: '' })
            expect(sopsDecrypt(repo, env, demoKey(repoRoot, 'admin')).code).toBe(128)
            expect(statSync(join(keys, `${env}.agekey`)).mode & 0o777).toBe(0o600)
        }
        const tree = snapshot(repo)
        expect(Object.values(tree).join('\n')).not.toMatch(/DEMO|alice|examples\/demo-keys/)
        for (const r of DEMO_RECIPIENTS.keys()) expect(Object.values(tree).join('\n')).not.toContain(r)

        const again = await keyfleet(['init', '--keys-dir', tmp('keyfleet-keys-')], { cwd: repo })
        expect(again.code).toBe(0)
        expect(again.stdout).toContain('nothing changed')
        expect(snapshot(repo)).toEqual(tree)

        const set = await keyfleet(['set', 'prod', 'OPENAI_API_KEY'], { cwd: repo, stdin: 'sk-proj-abcdefghijklmnopqrstuvwx\n', env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') } })
        expect(set.code).toBe(0)
        expect(sopsDecrypt(repo, 'prod', join(keys, 'prod.agekey')).out).toBe('OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx\n')
        git(repo, 'add', '-A')
        const validate = await keyfleet(['validate', '--all'], { cwd: repo })
        expect(validate.stdout + validate.stderr).toContain('ok: no findings')
        expect(validate.code).toBe(0)
    })

    it('creates the environments named by --env, in an existing application repository', async () => {
        const repo = tmp('keyfleet-app-')
        git(repo, 'init', '-q', '-b', 'main')
        appendFileSync(join(repo, 'package.json'), '{"name":"app"}\n')
        git(repo, 'add', '-A')
        git(repo, 'commit', '-q', '-m', 'app')
        const result = await keyfleet(['init', '--env', 'dev', '--env', 'live', '--print'], { cwd: join(repo) })
        expect(result.code).toBe(0)
        expect(result.stdout.match(/AGE-SECRET-KEY-1/g)).toHaveLength(3)
        expect(readFileSync(join(repo, 'environments', 'keyfleet.yaml'), 'utf8')).toContain('environments: [dev, live]')
        expect(readdirSync(join(repo, 'environments')).sort()).toEqual(['dev', 'keyfleet.yaml', 'live'])
        git(repo, 'add', '-A')
        expect((await keyfleet(['validate', '--all'], { cwd: repo })).code).toBe(0)
    })

    it('refuses to create identities without saying where they go, and inside the repository', async () => {
        const repo = tmp('keyfleet-new-')
        git(repo, 'init', '-q')
        const none = await keyfleet(['init'], { cwd: repo })
        expect(none.code).toBe(2)
        expect(none.stderr).toContain('--keys-dir')
        const inside = await keyfleet(['init', '--keys-dir', 'keys'], { cwd: repo })
        expect(inside.code).toBe(2)
        expect(inside.stderr).toContain('inside the repository')
        expect(readdirSync(repo)).toEqual(['.git'])
    })
})

describe('keyfleet init says what it did, and where it works', () => {
    it('an existing .sops.yaml is added to, and init says so (not "created"); its own rule is kept and sops still uses it', async () => {
        const repo = tmp('keyfleet-existing-')
        git(repo, 'init', '-q', '-b', 'main')
        const own = 'creation_rules:\n  - path_regex: ^config/.*\\.yaml$\n    age: age1ttgzvpznrqfxp8tn8mp70vq997r3syhcqt22uavy8r7xxrljvcjs3yfj7n\n'
        appendFileSync(join(repo, '.sops.yaml'), own)
        const init = await keyfleet(['init', '--keys-dir', tmp('keyfleet-keys-')], { cwd: repo })
        expect(init.code, init.stderr).toBe(0)
        expect(init.stdout).toContain('added rules for dev, stage, prod to the existing .sops.yaml')
        expect(init.stdout).not.toContain('created .sops.yaml')
        expect(init.stdout).toContain('created environments/keyfleet.yaml')
        expect(init.stdout).toContain('created environments/dev/env.secrets')
        expect(readFileSync(join(repo, '.sops.yaml'), 'utf8')).toContain('path_regex: ^config/.*\\.yaml$')
        // The real sops still matches the repository's own rule.
        appendFileSync(join(repo, 'config.json'), '{"a":"b"}')
        execFileSync(toolPath('sops'), ['encrypt', '--filename-override', 'config/app.yaml', '--input-type', 'json', 'config.json'], { cwd: repo, stdio: 'ignore' })
        const fresh = tmp('keyfleet-fresh-')
        git(fresh, 'init', '-q', '-b', 'main')
        const first = await keyfleet(['init', '--env', 'dev', '--keys-dir', tmp('keyfleet-keys-')], { cwd: fresh })
        expect(first.stdout).toContain('created .sops.yaml (rules for dev)')
    })

    it('outside a git repository: NOT_A_GIT_REPO, nothing created; after the proposed `git init` it works', async () => {
        const dir = tmp('keyfleet-nogit-')
        const keys = tmp('keyfleet-keys-')
        const r = await keyfleet(['init', '--keys-dir', keys], { cwd: dir })
        expect(r.code).toBe(2)
        expect(r.stderr).toContain('[NOT_A_GIT_REPO]')
        expect(r.stderr).toContain('run `git init` there first')
        expect(readdirSync(dir)).toEqual([])
        expect(readdirSync(keys)).toEqual([])
        execFileSync('git', ['init', '-q'], { cwd: dir })
        const ok = await keyfleet(['init', '--keys-dir', keys], { cwd: dir })
        expect(ok.code, ok.stderr).toBe(0)
        expect(existsSync(join(dir, 'environments', 'prod', 'env.secrets'))).toBe(true)
    })
})

describe('keyfleet init in the demo repository', () => {
    it('without --replace-demo changes nothing (it used to swap every CI recipient without re-keying)', async () => {
        const repo = makeDemoRepo()
        const result = await keyfleet(['init', '--keys-dir', tmp('keyfleet-keys-')], { cwd: repo })
        expect(result.code).toBe(0)
        expect(result.stderr).toContain('--replace-demo')
        expect(git(repo, 'status', '--porcelain')).toBe('')
    })

    it('--replace-demo leaves nothing a demo identity opens: env.secrets (sops) and rendered bundles (age)', async () => {
        const repo = makeDemoRepo()
        const keys = tmp('keyfleet-keys-')
        const result = await keyfleet(['init', '--replace-demo', '--keys-dir', keys], { cwd: repo })
        expect(result.stderr).not.toContain('[')
        expect(result.code).toBe(0)
        expect(result.stdout).toContain('alice-laptop')
        for (const env of ENVS) {
            const deployment = readFileSync(join(repo, 'environments', env, 'deployment.yaml'), 'utf8')
            expect(deployment).not.toContain('alice-laptop')
            expect(deployment).toContain('support-bot')
            expect(sopsDecrypt(repo, env, join(keys, `${env}.agekey`))).toEqual({ code: 0, out: '' })
        }
        // Real keys after the replacement, and a bundle agent of our own, then render.
        const host = tmp('keyfleet-host-')
        const hostRecipient = (await keyfleet(['keygen', '--out', join(host, 'h.agekey')], { cwd: repo })).stdout.trim()
        appendFileSync(join(repo, 'environments', 'dev', 'deployment.yaml'), `  - name: bob-laptop\n    cloud: local\n    target: bundle\n    recipient: ${hostRecipient}\n    keys: [openai, claude]\n`)
        const admin = { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') }
        expect((await keyfleet(['set', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: 'sk-proj-abcdefghijklmnopqrstuvwx\n', env: admin })).code).toBe(0)
        expect((await keyfleet(['set', 'dev', 'ANTHROPIC_API_KEY'], { cwd: repo, stdin: `sk-ant-api03-${'a'.repeat(40)}\n`, env: admin })).code).toBe(0)
        const out = tmp('keyfleet-render-')
        const render = await keyfleet(['render', 'dev', '--out', out, '--identity-file', join(keys, 'dev.agekey')], { cwd: repo })
        expect(render.stderr).not.toContain('[')
        expect(render.code).toBe(0)
        const bundles = readdirSync(join(out, 'bundles')).map((f) => join(out, 'bundles', f))
        expect(bundles).toHaveLength(1)
        expect(ageDecrypt(bundles[0] as string, join(host, 'h.agekey'))).toBe(0)
        // Every demo identity against every env.secrets and every bundle.
        for (const identity of demoIdentityFiles) {
            for (const env of ENVS) expect(sopsDecrypt(repo, env, identity).code, `${identity} opens ${env}`).toBe(128)
            for (const bundle of bundles) expect(ageDecrypt(bundle, identity), `${identity} opens ${bundle}`).not.toBe(0)
        }
        const validate = await keyfleet(['validate', '--env', 'dev'], { cwd: repo })
        expect(validate.stdout).not.toContain('KF107')
        expect(validate.code).toBe(0)
    })

    it('--replace-demo --keep-values re-keys every environment, keeping every value', async () => {
        const repo = makeDemoRepo()
        const before = sopsDecrypt(repo, 'prod', demoKey(repo, 'admin')).out
        const keys = tmp('keyfleet-keys-')
        const result = await keyfleet(['init', '--keys-dir', keys, '--replace-demo', '--keep-values', '--identity-file', demoKey(repo, 'admin')], { cwd: repo })
        expect(result.stderr).not.toContain('[')
        expect(result.code).toBe(0)
        for (const env of ENVS) {
            for (const identity of demoIdentityFiles) expect(sopsDecrypt(repo, env, identity).code).toBe(128)
            expect(sopsDecrypt(repo, env, join(keys, `${env}.agekey`)).code).toBe(0)
        }
        expect(sopsDecrypt(repo, 'prod', join(keys, 'admin.agekey')).out).toBe(before)
    })

    it('--keep-values changes nothing when the identity cannot open every environment', async () => {
        const repo = makeDemoRepo()
        const keys = tmp('keyfleet-keys-')
        const result = await keyfleet(['init', '--keys-dir', keys, '--replace-demo', '--keep-values', '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
        expect(result.code).toBe(3)
        expect(result.stderr).toContain('environments/stage/env.secrets')
        expect(git(repo, 'status', '--porcelain')).toBe('')
        expect(readdirSync(keys)).toEqual([])
    })

    it('refuses to write private keys inside the repository', async () => {
        const repo = makeDemoRepo()
        const result = await keyfleet(['init', '--keys-dir', 'keys', '--replace-demo'], { cwd: repo })
        expect(result.code).toBe(2)
        expect(result.stderr).toContain('inside the repository')
        expect(existsSync(join(repo, 'keys'))).toBe(false)
        expect(git(repo, 'status', '--porcelain')).toBe('')
    })
})

describe('keyfleet keygen', () => {
    it('writes 0600, prints the recipient, refuses to overwrite', async () => {
        const repo = makeDemoRepo()
        const first = await keyfleet(['keygen', '--out', 'me.agekey'], { cwd: repo })
        expect(first.code).toBe(0)
        expect(first.stdout).toMatch(/^age1[a-z0-9]{58}\n$/)
        expect(statSync(join(repo, 'me.agekey')).mode & 0o777).toBe(0o600)
        expect(readFileSync(join(repo, 'me.agekey'), 'utf8')).toContain(`# public key: ${first.stdout.trim()}`)
        const again = await keyfleet(['keygen', '--out', 'me.agekey'], { cwd: repo })
        expect(again.code).toBe(2)
        expect(again.stderr).toContain('[FILE_EXISTS]')
    })
})
