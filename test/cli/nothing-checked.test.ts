/**
 * Issue 12 item 7: no command exits 0 because it found nothing to check. `check` of an
 * environment without keys and `validate` of a repository without environments fail with
 * NOTHING_TO_CHECK, naming the command that gives them something to check (and that command
 * then makes them pass). The empty env.secrets is the one real sops wrote (`keyfleet init`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { git, keyfleet } from '../helpers/cli.js'

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))

describe('nothing to check is not a pass', () => {
    it('check of an environment with no keys: NOTHING_TO_CHECK (exit 2, also with --json); after the proposed set it passes', async () => {
        const repo = tmp('keyfleet-empty-')
        git(repo, 'init', '-q', '-b', 'main')
        const keys = tmp('keyfleet-keys-')
        expect((await keyfleet(['init', '--keys-dir', keys], { cwd: repo })).code).toBe(0)
        const env = { SOPS_AGE_KEY_FILE: join(keys, 'dev.agekey') }
        for (const extra of [[], ['--json']]) {
            const r = await keyfleet(['check', 'dev', ...extra], { cwd: repo, env })
            expect(r.code, r.stdout + r.stderr).toBe(2)
            expect(r.stderr).toContain('[NOTHING_TO_CHECK]')
            expect(r.stderr).toContain('holds no keys')
            expect(r.stdout).toBe('')
        }
        const proposed = /`(keyfleet set dev NAME)`/.exec((await keyfleet(['check', 'dev'], { cwd: repo, env })).stderr)?.[1]
        expect(proposed).toBeDefined()
        const set = await keyfleet((proposed as string).replace('NAME', 'OPENAI_API_KEY').split(' ').slice(1), {
            cwd: repo, stdin: 'sk-proj-abcdefghijklmnopqrstuvwx\n', env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') },
        })
        expect(set.code, set.stderr).toBe(0)
        const after = await keyfleet(['check', 'dev'], { cwd: repo, env })
        expect(after.code, after.stderr).toBe(0)
        expect(after.stdout).toContain('1 key(s) checked')
    })

    it('key-less validate --all of a repository with no environment: NOTHING_TO_CHECK; the proposed env add makes it pass', async () => {
        const repo = tmp('keyfleet-noenv-')
        git(repo, 'init', '-q', '-b', 'main')
        writeFileSync(join(repo, '.sops.yaml'), 'creation_rules: []\n')
        for (const args of [['validate', '--all'], ['validate'], ['validate', '--all', '--json']]) {
            const r = await keyfleet(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined, XDG_CONFIG_HOME: tmp('keyfleet-xdg-') } })
            expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2)
            expect(r.stderr).toContain('[NOTHING_TO_CHECK]')
            expect(r.stdout).not.toContain('ok')
        }
        const message = (await keyfleet(['validate', '--all'], { cwd: repo })).stderr
        const proposed = /`(keyfleet env add dev)`/.exec(message)?.[1]
        expect(proposed, message).toBeDefined()
        const keys = tmp('keyfleet-keys-')
        const add = await keyfleet([...(proposed as string).split(' ').slice(1), '--keys-dir', keys], { cwd: repo })
        expect(add.code, add.stderr).toBe(0)
        git(repo, 'add', '-A')
        const ok = await keyfleet(['validate', '--all'], { cwd: repo })
        expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    })
})
