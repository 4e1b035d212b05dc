/**
 * `keyfleet init --replace-demo` and `keyfleet keygen`: new identities, a new
 * .sops.yaml, and demo identities that no longer open anything.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, git, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { sopsPath } from '../helpers/tools.js'

const sopsDecrypt = (repo: string, env: string, keyFile: string): { code: number; out: string } => {
    try {
        const out = execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', `environments/${env}/env.secrets`], {
            cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { SOPS_AGE_KEY_FILE: keyFile, PATH: process.env.PATH },
        })
        return { code: 0, out }
    } catch (error) {
        return { code: (error as { status: number }).status, out: '' }
    }
}

describe('keyfleet init', () => {
    it('re-keys every environment so the demo identities no longer open it, keeping every value', async () => {
        const repo = makeDemoRepo()
        const before = sopsDecrypt(repo, 'prod', demoKey(repo, 'admin')).out
        const keys = mkdtempSync(join(tmpdir(), 'keyfleet-keys-'))
        const result = await keyfleet(['init', '--keys-dir', keys, '--replace-demo', '--identity-file', demoKey(repo, 'admin')], { cwd: repo })
        expect(result.stderr).not.toContain('[')
        expect(result.code).toBe(0)
        for (const who of ['admin', 'dev', 'stage', 'prod']) {
            const file = join(keys, `${who}.agekey`)
            expect(existsSync(file)).toBe(true)
            expect(statSync(file).mode & 0o777).toBe(0o600)
        }
        const config = readFileSync(join(repo, '.sops.yaml'), 'utf8')
        expect(config).not.toContain('age1kjtzx7zxsjl0nm50nvwmch68tc8r7kwn80gawllcf24lcz87f4hsc0w2ks')
        for (const env of ['dev', 'stage', 'prod']) {
            expect(sopsDecrypt(repo, env, demoKey(repo, 'admin')).code).toBe(128)
            expect(sopsDecrypt(repo, env, demoKey(repo, env as 'dev')).code).toBe(128)
            expect(sopsDecrypt(repo, env, join(keys, `${env}.agekey`)).code).toBe(0)
        }
        expect(sopsDecrypt(repo, 'prod', join(keys, 'admin.agekey')).out).toBe(before)
    })

    it('changes nothing when the identity cannot open every environment', async () => {
        const repo = makeDemoRepo()
        const keys = mkdtempSync(join(tmpdir(), 'keyfleet-keys-'))
        const result = await keyfleet(['init', '--keys-dir', keys, '--replace-demo', '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
        expect(result.code).toBe(3)
        expect(result.stderr).toContain('environments/stage/env.secrets')
        expect(git(repo, 'status', '--porcelain')).toBe('')
        expect(readdirSync(keys)).toEqual([])
    })

    it('refuses to write private keys inside the repository', async () => {
        const repo = makeDemoRepo()
        const result = await keyfleet(['init', '--keys-dir', 'keys', '--replace-demo', '--identity-file', demoKey(repo, 'admin')], { cwd: repo })
        expect(result.code).toBe(2)
        expect(result.stderr).toContain('inside the repository')
        expect(existsSync(join(repo, 'keys'))).toBe(false)
        expect(git(repo, 'status', '--porcelain')).toBe('')
    })

    it('refuses to run without saying where the identities go', async () => {
        const repo = makeDemoRepo()
        const result = await keyfleet(['init'], { cwd: repo })
        expect(result.code).toBe(2)
        expect(result.stderr).toContain('--keys-dir')
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
