/**
 * The authoring round trip through the real sops: set → ls → get, unset,
 * import, and the property reviewers rely on (a set changes one line plus
 * sops_mac / sops_lastmodified).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, git, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { sopsPath } from '../helpers/tools.js'

const sopsDecrypt = (repo: string, file: string, key: string): string =>
    execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', file], {
        cwd: repo, encoding: 'utf8', env: { SOPS_AGE_KEY_FILE: key, PATH: process.env.PATH },
    })

const NEW_OPENAI = 'sk-proj-ROUNDTRIPabcdefghijklmnopqrstuvwxyz0123'

describe('keyfleet set / ls / get / unset', () => {
    it('round-trips a value and the result opens with plain sops', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const set = await keyfleet(['set', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${NEW_OPENAI}\n`, env })
        expect(set.stderr).not.toContain('error')
        expect(set.code).toBe(0)
        expect(set.stdout).toContain(`set OPENAI_API_KEY in dev (openai, ${NEW_OPENAI.length} chars, …0123)`)
        const ls = await keyfleet(['ls', 'dev'], { cwd: repo, env: {} })
        expect(ls.code).toBe(0)
        expect(ls.stdout).toContain('OPENAI_API_KEY')
        const get = await keyfleet(['get', 'dev', 'OPENAI_API_KEY'], { cwd: repo, env })
        expect(get.code).toBe(0)
        expect(get.stdout).toBe(`${NEW_OPENAI}\n`)
        expect(sopsDecrypt(repo, 'environments/dev/env.secrets', demoKey(repo, 'dev'))).toContain(`OPENAI_API_KEY=${NEW_OPENAI}\n`)
        const unset = await keyfleet(['unset', 'dev', 'OPENAI_API_KEY', '--force'], { cwd: repo, env })
        expect(unset.code).toBe(0)
        expect(sopsDecrypt(repo, 'environments/dev/env.secrets', demoKey(repo, 'dev'))).not.toContain('OPENAI_API_KEY=')
        expect(readdirSync(join(repo, 'environments', 'dev')).sort()).toEqual(['deployment.yaml', 'env.secrets'])
    })

    it('changes only that key\'s line plus sops_mac and sops_lastmodified', async () => {
        const repo = makeDemoRepo()
        // sops_lastmodified has whole-second resolution; make sure it moves.
        await new Promise((r) => setTimeout(r, 1100))
        const set = await keyfleet(['set', 'prod', 'OPENAI_API_KEY'], { cwd: repo, stdin: NEW_OPENAI, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'prod') } })
        expect(set.code).toBe(0)
        const changed = git(repo, 'diff', '-U0', 'environments/prod/env.secrets').split('\n')
            .filter((l) => /^[-+][^-+]/.test(l)).map((l) => l.slice(0, l.indexOf('=')))
        expect(changed.sort()).toEqual(['+OPENAI_API_KEY', '+sops_lastmodified', '+sops_mac', '-OPENAI_API_KEY', '-sops_lastmodified', '-sops_mac'])
    })

    it('stores an alias under its canonical name and says so', async () => {
        const repo = makeDemoRepo()
        const value = `sk-ant-api03-${'A'.repeat(40)}`
        const set = await keyfleet(['set', 'dev', 'CLAUDE_API_KEY'], { cwd: repo, stdin: value, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(set.code).toBe(0)
        expect(set.stderr).toContain('CLAUDE_API_KEY is an alias of ANTHROPIC_API_KEY')
        expect(sopsDecrypt(repo, 'environments/dev/env.secrets', demoKey(repo, 'dev'))).toContain(`ANTHROPIC_API_KEY=${value}\n`)
    })

    it('refuses unknown names and bad formats unless told otherwise', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const before = readFileSync(join(repo, 'environments/dev/env.secrets'))
        const unknown = await keyfleet(['set', 'dev', 'MY_TOOL_TOKEN'], { cwd: repo, stdin: 'tok-123456789', env })
        expect(unknown.code).toBe(2)
        expect(unknown.stderr).toContain('[NAME_UNKNOWN]')
        const format = await keyfleet(['set', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: 'not-an-openai-key-123', env })
        expect(format.code).toBe(2)
        expect(format.stderr).toContain('[VALUE_FORMAT]')
        expect(format.stderr).not.toContain('not-an-openai-key-123')
        expect(readFileSync(join(repo, 'environments/dev/env.secrets'))).toEqual(before)
        const allowed = await keyfleet(['set', 'dev', 'MY_TOOL_TOKEN', '--allow-unknown'], { cwd: repo, stdin: 'tok-123456789', env })
        expect(allowed.code).toBe(0)
        const forced = await keyfleet(['set', 'dev', 'OPENAI_API_KEY', '--force'], { cwd: repo, stdin: 'not-an-openai-key-123', env })
        expect(forced.code).toBe(0)
        const plain = sopsDecrypt(repo, 'environments/dev/env.secrets', demoKey(repo, 'dev'))
        expect(plain).toContain('MY_TOOL_TOKEN=tok-123456789\n')
        expect(plain).toContain('OPENAI_API_KEY=not-an-openai-key-123\n')
    })
})

describe('keyfleet import', () => {
    it('keeps every key and its order in a new environment and in an existing one', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const dotenv = [
            '# exported from the old vault',
            `export OPENAI_API_KEY="${NEW_OPENAI}"`,
            `FIREWORKS_API_KEY=fw_${'b'.repeat(24)}`,
            `GOOGLE_API_KEY='AIza${'c'.repeat(35)}'`,
            '',
        ].join('\n')
        writeFileSync(join(repo, 'old.env'), dotenv)
        // An existing environment: values set in place, new names appended in order.
        const existing = await keyfleet(['import', 'dev', 'old.env'], { cwd: repo, env })
        expect(existing.code).toBe(0)
        const plain = sopsDecrypt(repo, 'environments/dev/env.secrets', demoKey(repo, 'dev'))
        expect(plain).toContain(`OPENAI_API_KEY=${NEW_OPENAI}\n`)
        expect(plain.indexOf('FIREWORKS_API_KEY=')).toBeGreaterThan(plain.indexOf('GEMINI_API_KEY='))
        expect(plain).toContain(`GEMINI_API_KEY=AIza${'c'.repeat(35)}\n`)
        // A new environment: exactly the imported keys, in the .env's order.
        rmEnv(repo, 'stage')
        const fresh = await keyfleet(['import', 'stage', 'old.env', '--remove-source'], { cwd: repo, env })
        expect(fresh.code).toBe(0)
        const names = sopsDecrypt(repo, 'environments/stage/env.secrets', demoKey(repo, 'stage')).trim().split('\n').map((l) => l.split('=')[0])
        expect(names).toEqual(['OPENAI_API_KEY', 'FIREWORKS_API_KEY', 'GEMINI_API_KEY'])
        expect(existsSync(join(repo, 'old.env'))).toBe(false)
    })

    it('stops at a bad line with nothing changed', async () => {
        const repo = makeDemoRepo()
        const before = readFileSync(join(repo, 'environments/dev/env.secrets'))
        writeFileSync(join(repo, 'bad.env'), `OPENAI_API_KEY=${NEW_OPENAI}\nthis line is broken\n`)
        const result = await keyfleet(['import', 'dev', 'bad.env'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(result.code).toBe(2)
        expect(result.stderr).toContain('bad.env:2')
        expect(readFileSync(join(repo, 'environments/dev/env.secrets'))).toEqual(before)
    })
})

const rmEnv = (repo: string, env: string): void => {
    execFileSync('rm', ['-f', join(repo, 'environments', env, 'env.secrets')])
}
