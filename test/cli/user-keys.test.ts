/**
 * sops' own user identity file (`$XDG_CONFIG_HOME/sops/age/keys.txt`, `~/.config/sops/age/keys.txt`)
 * works for every command, through sops (`set`) and in process (`get`, `validate`, `run`).
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

describe('the sops user keys.txt', () => {
    for (const where of ['XDG_CONFIG_HOME', 'HOME'] as const) {
        it(`is found under ${where}`, async () => {
            const repo = makeDemoRepo()
            const base = mkdtempSync(join(tmpdir(), 'keyfleet-userkeys-'))
            const dir = where === 'HOME' ? join(base, '.config', 'sops', 'age') : join(base, 'sops', 'age')
            mkdirSync(dir, { recursive: true })
            copyFileSync(demoKey(repo, 'admin'), join(dir, 'keys.txt'))
            const env = where === 'HOME' ? { HOME: base } : { XDG_CONFIG_HOME: base, HOME: join(base, 'nohome') }
            const set = await keyfleet(['set', 'dev', 'FIREWORKS_API_KEY', '--force'], { cwd: repo, env, stdin: 'fw-user-keys-value-123456' })
            expect(set.code, set.stderr).toBe(0)
            const get = await keyfleet(['get', 'dev', 'FIREWORKS_API_KEY'], { cwd: repo, env })
            expect(get.code, get.stderr).toBe(0)
            expect(get.stdout).toBe('fw-user-keys-value-123456\n')
            const validate = await keyfleet(['validate', '--env', 'dev'], { cwd: repo, env })
            expect(validate.stdout + validate.stderr).not.toContain('key-less')
            const run = await keyfleet(['run', 'dev', '--', 'sh', '-c', 'test "$FIREWORKS_API_KEY" = fw-user-keys-value-123456'], { cwd: repo, env })
            expect(run.code, run.stderr).toBe(0)
        })
    }
})
