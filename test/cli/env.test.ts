/**
 * `keyfleet env add|rm` and `keyfleet recipients sync`, and the advice of
 * KF103/KF104/KF106: each scenario takes the command validate proposes from
 * its own output and runs it exactly as written; validate is clean afterwards
 * and the real sops decides who can open the file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { git, keyfleet, sopsDecrypt } from '../helpers/cli.js'

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))


/** A new repository made by init, with one key set in dev. */
const newRepo = async (): Promise<{ repo: string; keys: string }> => {
    const repo = tmp('keyfleet-env-')
    git(repo, 'init', '-q', '-b', 'main')
    const keys = tmp('keyfleet-keys-')
    expect((await keyfleet(['init', '--keys-dir', keys], { cwd: repo })).code).toBe(0)
    expect((await keyfleet(['set', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: 'sk-proj-abcdefghijklmnopqrstuvwx\n', env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') } })).code).toBe(0)
    git(repo, 'add', '-A')
    git(repo, 'commit', '-q', '-m', 'init')
    return { repo, keys }
}

/** The one `keyfleet …` command the finding `code` proposes, from validate's own output. */
const proposed = async (repo: string, code: string, pattern: RegExp): Promise<string[]> => {
    const result = await keyfleet(['validate'], { cwd: repo })
    const line = result.stdout.split('\n').find((l) => l.includes(` ${code} `))
    expect(line, `${code} in:\n${result.stdout}`).toBeDefined()
    const command = [...(line as string).matchAll(/`(keyfleet [^`]+)`/g)].map((m) => m[1] as string).find((c) => pattern.test(c))
    expect(command, `a command matching ${pattern} in: ${line}`).toBeDefined()
    return (command as string).split(' ').slice(1)
}

describe('keyfleet env add / env rm', () => {
    it('adds an environment (rule, CI identity, sops-written env.secrets, deployment.yaml) before production; again changes nothing', async () => {
        const { repo, keys } = await newRepo()
        const qaKeys = tmp('keyfleet-keys-')
        const add = await keyfleet(['env', 'add', 'qa', '--keys-dir', qaKeys], { cwd: repo })
        expect(add.stderr).not.toContain('[')
        expect(add.code).toBe(0)
        expect(readFileSync(join(repo, 'environments', 'keyfleet.yaml'), 'utf8')).toContain('environments: [dev, stage, qa, prod]')
        expect(sopsDecrypt(repo, 'qa', join(qaKeys, 'qa.agekey'))).toEqual({ code: 0, out: '' })
        // The existing admin reads the new environment; no second admin was generated.
        expect(existsSync(join(qaKeys, 'admin.agekey'))).toBe(false)
        expect(sopsDecrypt(repo, 'qa', join(keys, 'admin.agekey')).code).toBe(0)
        expect(sopsDecrypt(repo, 'qa', join(keys, 'dev.agekey')).code).toBe(128)
        const set = await keyfleet(['set', 'qa', 'OPENAI_API_KEY'], { cwd: repo, stdin: 'sk-proj-abcdefghijklmnopqrstuvwx\n', env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') } })
        expect(set.code).toBe(0)
        git(repo, 'add', '-A')
        expect((await keyfleet(['validate', '--all'], { cwd: repo })).code).toBe(0)
        const before = git(repo, 'status', '--porcelain')
        const again = await keyfleet(['env', 'add', 'qa'], { cwd: repo })
        expect(again.code).toBe(0)
        expect(again.stdout).toContain('nothing changed')
        expect(git(repo, 'status', '--porcelain')).toBe(before)
    })

    it('rm refuses an environment that holds keys unless --force, then removes every trace', async () => {
        const { repo } = await newRepo()
        const refused = await keyfleet(['env', 'rm', 'dev'], { cwd: repo })
        expect(refused.code).toBe(2)
        expect(refused.stderr).toContain('[ENV_NOT_EMPTY]')
        expect(refused.stderr).toContain('OPENAI_API_KEY')
        expect(refused.stderr).not.toContain('sk-proj')
        expect(git(repo, 'status', '--porcelain')).toBe('')
        const forced = await keyfleet(['env', 'rm', 'dev', '--force'], { cwd: repo })
        expect(forced.code).toBe(0)
        expect(existsSync(join(repo, 'environments', 'dev'))).toBe(false)
        expect(readFileSync(join(repo, '.sops.yaml'), 'utf8')).not.toContain('environments/dev/')
        expect(readFileSync(join(repo, 'environments', 'keyfleet.yaml'), 'utf8')).toContain('environments: [stage, prod]')
        git(repo, 'add', '-A')
        expect((await keyfleet(['validate', '--all'], { cwd: repo })).code).toBe(0)
    })

    it('KF106 proposes `keyfleet env add <env>`, which runs as written and clears it', async () => {
        const { repo, keys } = await newRepo()
        rmSync(join(repo, 'environments', 'stage', 'env.secrets'))
        const argv = await proposed(repo, 'KF106', /^keyfleet env add /)
        expect(argv).toEqual(['env', 'add', 'stage'])
        const run = await keyfleet(argv, { cwd: repo })
        expect(run.stderr).not.toContain('[')
        expect(run.code).toBe(0)
        expect(sopsDecrypt(repo, 'stage', join(keys, 'stage.agekey')).code).toBe(0)
        expect((await keyfleet(['validate'], { cwd: repo })).code).toBe(0)
    })
})

describe('keyfleet recipients sync', () => {
    it('KF103 (recipient added by hand) proposes `keyfleet recipients sync <env>`; it runs and the new recipient opens the file', async () => {
        const { repo, keys } = await newRepo()
        const newcomer = tmp('keyfleet-bob-')
        const bob = (await keyfleet(['keygen', '--out', join(newcomer, 'bob.agekey')], { cwd: repo })).stdout.trim()
        const config = readFileSync(join(repo, '.sops.yaml'), 'utf8')
        writeFileSync(join(repo, '.sops.yaml'), config.replace(/(# ci:dev\n)/, `$1      - ${bob} # admin:bob\n`))
        const argv = await proposed(repo, 'KF103', /^keyfleet recipients sync /)
        expect(argv).toEqual(['recipients', 'sync', 'dev'])
        const before = sopsDecrypt(repo, 'dev', join(keys, 'admin.agekey')).out
        const run = await keyfleet(argv, { cwd: repo, env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') } })
        expect(run.stderr).not.toContain('[')
        expect(run.code).toBe(0)
        expect(sopsDecrypt(repo, 'dev', join(newcomer, 'bob.agekey')).out).toBe(before)
        expect((await keyfleet(['validate'], { cwd: repo })).code).toBe(0)
        const again = await keyfleet(argv, { cwd: repo, env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') } })
        expect(again.stdout).toContain('nothing changed')
    })

    it('KF104 (recipient removed by hand) proposes the same sync; it drops the recipient and replaces the data key', async () => {
        const { repo, keys } = await newRepo()
        const config = readFileSync(join(repo, '.sops.yaml'), 'utf8')
        // Drop the dev CI recipient from its rule; the admin still opens the file.
        writeFileSync(join(repo, '.sops.yaml'), config.replace(/\n {6}- age1\S+ # ci:dev/, ''))
        const argv = await proposed(repo, 'KF104', /^keyfleet recipients sync /)
        expect(argv).toEqual(['recipients', 'sync', 'dev'])
        expect(sopsDecrypt(repo, 'dev', join(keys, 'dev.agekey')).code).toBe(0)
        const run = await keyfleet(argv, { cwd: repo, env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') } })
        expect(run.code).toBe(0)
        expect(run.stdout).toContain('new data key')
        expect(sopsDecrypt(repo, 'dev', join(keys, 'dev.agekey')).code).toBe(128)
        expect(sopsDecrypt(repo, 'dev', join(keys, 'admin.agekey')).out).toBe('OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx\n')
        expect((await keyfleet(['validate'], { cwd: repo })).code).toBe(0)
    })

    it('changes nothing when the identity cannot open the file', async () => {
        const { repo, keys } = await newRepo()
        const config = readFileSync(join(repo, '.sops.yaml'), 'utf8')
        writeFileSync(join(repo, '.sops.yaml'), config.replace(/\n {6}- age1\S+ # ci:dev/, ''))
        const secrets = readFileSync(join(repo, 'environments', 'dev', 'env.secrets'), 'utf8')
        const run = await keyfleet(['recipients', 'sync', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: join(keys, 'prod.agekey') } })
        expect(run.code).not.toBe(0)
        expect(readFileSync(join(repo, 'environments', 'dev', 'env.secrets'), 'utf8')).toBe(secrets)
    })
})
