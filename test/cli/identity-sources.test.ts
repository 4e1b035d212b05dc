/**
 * Issue 12 item 6: every decrypting command's failure names the identity sources it used or
 * tried, through sops (set, import) and in process (get, check, validate); SSH identities, which
 * sops 3.13.2 reads (SOPS_AGE_SSH_PRIVATE_KEY_FILE, ~/.ssh/id_ed25519) and keyfleet does not,
 * are refused by name (NATIVE_SSH_IDENTITY_UNSUPPORTED), never silently skipped.
 * Oracle: the real sops binary fails (set, import) and succeeds (its own SSH support).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))
const DEV = 'environments/dev/env.secrets'

/** A HOME holding an OpenSSH ed25519 key (ssh-keygen), and an empty XDG config dir. */
const sshHome = (): { home: string; key: string } => {
    const home = tmp('keyfleet-home-')
    mkdirSync(join(home, '.ssh'), { mode: 0o700 })
    const key = join(home, '.ssh', 'id_ed25519')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
    return { home, key }
}

describe('sops-backed writes name the identity sources sops was given', () => {
    it.each([
        ['SOPS_AGE_KEY_FILE', (repo: string) => ({ SOPS_AGE_KEY_FILE: demoKey(repo, 'prod') }), (repo: string) => `SOPS_AGE_KEY_FILE (${demoKey(repo, 'prod')})`, []],
        ['SOPS_AGE_KEY', (repo: string) => ({ SOPS_AGE_KEY: readFileSync(demoKey(repo, 'prod'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-')) as string }), () => 'SOPS_AGE_KEY', []],
        ['--identity-file', () => ({}), (repo: string) => `--identity-file ${demoKey(repo, 'prod')}`, ['--identity-file', 'examples/demo-keys/prod.agekey']],
        ['nothing at all', () => ({}), () => 'keys.txt (no such file)', []],
    ] as const)('set and import with %s: SOPS_COULD_NOT_RETRIEVE_KEY names it, file unchanged', async (_what, envOf, expected, extra) => {
        const repo = makeDemoRepo()
        const env = { ...envOf(repo), XDG_CONFIG_HOME: tmp('keyfleet-xdg-') }
        const before = readFileSync(join(repo, DEV))
        const set = await keyfleet(['set', 'dev', 'OPENAI_API_KEY', ...extra], { cwd: repo, stdin: 'sk-proj-abcdefghijklmnopqrstuvwx\n', env })
        writeFileSync(join(repo, 'app.env'), 'OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx\n')
        const imported = await keyfleet(['import', 'dev', 'app.env', ...extra], { cwd: repo, env })
        for (const r of [set, imported]) {
            expect(r.code, r.stderr).toBe(3)
            expect(r.stderr).toContain('[SOPS_COULD_NOT_RETRIEVE_KEY]')
            expect(r.stderr).toContain('identities sops was given: ')
            expect(r.stderr).toContain(expected(repo))
        }
        expect(readFileSync(join(repo, DEV))).toEqual(before)
    })

    it('a set SOPS_AGE_SSH_PRIVATE_KEY_FILE is named as not passed to sops', async () => {
        const repo = makeDemoRepo()
        const { key } = sshHome()
        const r = await keyfleet(['set', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: 'sk-proj-abcdefghijklmnopqrstuvwx\n', env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: key, XDG_CONFIG_HOME: tmp('keyfleet-xdg-'), HOME: tmp('keyfleet-home-') } })
        expect(r.code).toBe(3)
        expect(r.stderr).toContain('SOPS_AGE_SSH_PRIVATE_KEY_FILE (set, but not passed to sops: keyfleet uses age identities only)')
    })
})

describe('SSH identities in process: refused by name', () => {
    it('get, check and validate with only an SSH identity (variable or ~/.ssh/id_ed25519): NATIVE_SSH_IDENTITY_UNSUPPORTED, exit 3', async () => {
        const repo = makeDemoRepo()
        const { home, key } = sshHome()
        const xdg = tmp('keyfleet-xdg-')
        const cases: [string[], Record<string, string>][] = [
            [['get', 'dev', 'OPENAI_API_KEY'], { HOME: home, XDG_CONFIG_HOME: xdg }],
            [['get', 'dev', 'OPENAI_API_KEY'], { SOPS_AGE_SSH_PRIVATE_KEY_FILE: key, HOME: tmp('keyfleet-home-'), XDG_CONFIG_HOME: xdg }],
            [['check', 'dev'], { HOME: home, XDG_CONFIG_HOME: xdg }],
            [['validate', '--env', 'dev'], { SOPS_AGE_SSH_PRIVATE_KEY_FILE: key, HOME: tmp('keyfleet-home-'), XDG_CONFIG_HOME: xdg }],
        ]
        for (const [argv, env] of cases) {
            const r = await keyfleet(argv, { cwd: repo, env })
            expect({ argv, code: r.code }).toEqual({ argv, code: 3 })
            expect(r.stderr).toContain('[NATIVE_SSH_IDENTITY_UNSUPPORTED]')
            expect(r.stderr).toContain('SSH identities (')
            expect(r.stderr).toContain('ssh-to-age')
            expect(r.stderr).not.toContain('(use sops)')
        }
    })

    it('an age identity that opens nothing, beside ~/.ssh/id_ed25519: the failure names both', async () => {
        const repo = makeDemoRepo()
        const { home } = sshHome()
        const r = await keyfleet(['get', 'dev', 'OPENAI_API_KEY'], { cwd: repo, env: { HOME: home, XDG_CONFIG_HOME: tmp('keyfleet-xdg-'), SOPS_AGE_KEY_FILE: demoKey(repo, 'prod') } })
        expect(r.code).toBe(3)
        expect(r.stderr).toContain('[NATIVE_NO_MATCHING_IDENTITY]')
        expect(r.stderr).toContain(`identities tried: SOPS_AGE_KEY_FILE (${demoKey(repo, 'prod')})`)
        expect(r.stderr).toContain(join(home, '.ssh', 'id_ed25519'))
    })
})
