/**
 * `env` and `recipients` take the same spellings (`rm` and `remove`), checked with the real sops
 * (a removed recipient no longer opens the file); and a canary test for `env add` / `env rm` with
 * values present: nothing they print or write holds any form of a value (test/helpers/canary.ts).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { filesUnder, findLeaks, makeCanary } from '../helpers/canary.js'
import { demoKey, git, keyfleet, makeDemoRepo, sopsDecrypt } from '../helpers/cli.js'

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))
const ALICE = 'age1hmkkhc2n3ykdxtgxun39uncjhayfd0kucnc7v9pals86q4xanflsyrguyu'

describe('rm and remove are the same, in env and in recipients', () => {
    it.each(['rm', 'remove'])('recipients %s: the recipient no longer opens the file (sops decrypt)', async (spelling) => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        expect((await keyfleet(['recipients', 'add', 'stage', ALICE, '--comment', 'admin:alice'], { cwd: repo, env })).code).toBe(0)
        expect(sopsDecrypt(repo, 'stage', demoKey(repo, 'laptop-alice')).code).toBe(0)
        const r = await keyfleet(['recipients', spelling, 'stage', ALICE], { cwd: repo, env })
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toContain('removed age1hmkk')
        expect(sopsDecrypt(repo, 'stage', demoKey(repo, 'laptop-alice')).code).toBe(128)
        expect(sopsDecrypt(repo, 'stage', demoKey(repo, 'stage')).code).toBe(0)
    })

    it.each(['rm', 'remove'])('env %s removes an environment; help names both spellings', async (spelling) => {
        const repo = tmp('keyfleet-spell-')
        git(repo, 'init', '-q', '-b', 'main')
        expect((await keyfleet(['init', '--env', 'dev', '--env', 'qa', '--keys-dir', tmp('keyfleet-keys-')], { cwd: repo })).code).toBe(0)
        const r = await keyfleet(['env', spelling, 'qa'], { cwd: repo })
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toContain('removed environment qa')
        expect((await keyfleet(['ls', 'qa'], { cwd: repo })).code).toBe(2)
        for (const group of ['env', 'recipients']) {
            const help = (await keyfleet([group, '--help'], { cwd: repo })).stdout
            expect(help).toMatch(/rm\|remove|remove\|rm/)
        }
    })
})

describe('canary: env add and env rm with values present', () => {
    it('nothing env add or env rm --force prints or writes holds a value', async () => {
        const repo = tmp('keyfleet-envcanary-')
        git(repo, 'init', '-q', '-b', 'main')
        const keys = tmp('keyfleet-keys-')
        expect((await keyfleet(['init', '--keys-dir', keys], { cwd: repo })).code).toBe(0)
        const admin = { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') }
        const inDev = makeCanary()
        expect((await keyfleet(['set', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${inDev}\n`, env: admin })).code).toBe(0)
        const qaKeys = tmp('keyfleet-keys-')
        const add = await keyfleet(['env', 'add', 'qa', '--keys-dir', qaKeys], { cwd: repo, env: admin })
        expect(add.code, add.stderr).toBe(0)
        const inQa = makeCanary()
        expect((await keyfleet(['set', 'qa', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${inQa}\n`, env: admin })).code).toBe(0)
        const refused = await keyfleet(['env', 'rm', 'qa'], { cwd: repo, env: admin })
        expect(refused.code).toBe(2)
        expect(refused.stderr).toContain('OPENAI_API_KEY')
        const removed = await keyfleet(['env', 'remove', 'qa', '--force'], { cwd: repo, env: admin })
        expect(removed.code, removed.stderr).toBe(0)
        expect(removed.stderr).toContain('OPENAI_API_KEY')
        const printed = await keyfleet(['env', 'add', 'qa2', '--print'], { cwd: repo, env: admin })
        expect(printed.code, printed.stderr).toBe(0)
        const haystacks = {
            ...Object.fromEntries([add, refused, removed, printed].flatMap((r, i) => [[`stdout ${i}`, r.stdout], [`stderr ${i}`, r.stderr]])),
            ...filesUnder(repo, (p) => p.endsWith('/.git')),
            ...filesUnder(qaKeys),
        }
        for (const value of [inDev, inQa]) expect(findLeaks(value, haystacks)).toEqual([])
    })
})
