/**
 * KF154: a proposal restored from history (its exact blob was applied and
 * deleted by an earlier fold) is a replay of an old value. Real git, real
 * sops, the in-process CLI.
 */
import { execFileSync } from 'node:child_process'
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkProposalFreshness, checkProposalReplays, ciphertextDigest } from '../../src/validate/index.js'
import { demoKey, git, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { openaiKey, realDecrypt } from '../lifecycle/helpers.js'

const PROPOSAL = 'environments/dev/proposals/OPENAI_API_KEY.age'
const keyless = (): Record<string, string | undefined> => ({ SOPS_AGE_KEY: undefined, SOPS_AGE_KEY_FILE: undefined, HOME: mkdtempSync(join(tmpdir(), 'keyfleet-home-')) })
const secrets = (repo: string): string => readFileSync(join(repo, 'environments/dev/env.secrets'), 'utf8')

/** propose → commit → fold → commit the deletion; returns the fold commit. */
const proposeAndFold = async (repo: string, value: string): Promise<string> => {
    expect((await keyfleet(['propose', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${value}\n`, env: keyless() })).code).toBe(0)
    git(repo, 'add', '-A')
    git(repo, 'commit', '-q', '-m', 'propose')
    const fold = await keyfleet(['proposals', 'fold', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env: keyless() })
    expect(fold.code, fold.stderr).toBe(0)
    git(repo, 'add', '-A')
    git(repo, 'commit', '-q', '-m', 'fold')
    return git(repo, 'rev-parse', 'HEAD').trim()
}

describe('proposal replays (KF154)', () => {
    it('an old proposal restored from history is reported by validate and refused by fold; a fresh one of the same value is accepted', async () => {
        const repo = makeDemoRepo()
        const old = openaiKey()
        const current = openaiKey()
        const oldFold = await proposeAndFold(repo, old)
        await proposeAndFold(repo, current)
        expect(realDecrypt(repo, 'dev', demoKey(repo, 'admin')).values.get('OPENAI_API_KEY')).toBe(current)

        // The attacker's PR: the old, revoked value's proposal file, byte for byte.
        git(repo, 'checkout', `${oldFold}~`, '--', PROPOSAL)
        const validate = await keyfleet(['validate'], { cwd: repo, env: keyless() })
        expect(validate.code).toBe(1)
        expect(validate.stdout).toContain('KF154')
        expect(validate.stdout).toContain(`proposal OPENAI_API_KEY was applied and removed before (commit ${oldFold.slice(0, 12)})`)
        expect(await checkProposalReplays(repo, 'dev')).toMatchObject([{ code: 'KF154', severity: 'error', file: PROPOSAL }])
        expect(await checkProposalReplays(repo, 'stage')).toEqual([])
        const check = await keyfleet(['proposals', 'check', 'dev'], { cwd: repo, env: keyless() })
        expect(check.code).toBe(1)
        expect(check.stdout).toContain('KF154')

        const before = secrets(repo)
        const refused = await keyfleet(['proposals', 'fold', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env: keyless() })
        expect(refused.code).not.toBe(0)
        expect(refused.stderr).toContain('PROPOSALS_INVALID')
        expect(refused.stderr).toContain('KF154')
        expect(secrets(repo)).toBe(before)
        expect(readFileSync(join(repo, PROPOSAL), 'utf8')).toBe(git(repo, 'show', `${oldFold}~:${PROPOSAL}`))
        for (const out of [validate.stdout, validate.stderr, refused.stdout, refused.stderr]) {
            expect(out).not.toContain(old)
            expect(out).not.toContain(current)
        }

        // Deliberately going back to the old value takes a new proposal: a new blob, accepted.
        expect((await keyfleet(['propose', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${old}\n`, env: keyless() })).code).toBe(0)
        expect(await checkProposalReplays(repo, 'dev')).toEqual([])
        expect((await keyfleet(['validate'], { cwd: repo, env: keyless() })).stdout).not.toContain('KF154')
        const fold = await keyfleet(['proposals', 'fold', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env: keyless() })
        expect(fold.code, fold.stderr).toBe(0)
        expect(realDecrypt(repo, 'dev', demoKey(repo, 'admin')).values.get('OPENAI_API_KEY')).toBe(old)
    }, 120_000)

    it('outside a git repository there is no history and no finding', async () => {
        const repo = makeDemoRepo()
        const oldFold = await proposeAndFold(repo, openaiKey())
        git(repo, 'checkout', `${oldFold}~`, '--', PROPOSAL)
        expect(await checkProposalReplays(repo, 'dev')).toHaveLength(1)
        const plain = mkdtempSync(join(tmpdir(), 'keyfleet-plain-'))
        for (const part of ['.sops.yaml', 'environments', 'examples']) cpSync(join(repo, part), join(plain, part), { recursive: true })
        expect(await checkProposalReplays(plain, 'dev')).toEqual([])
    }, 60_000)

    it('an old proposal plus a trailing newline is still a replay (digest of the ciphertext) and refused as non-canonical armor', async () => {
        const repo = makeDemoRepo()
        const old = openaiKey()
        const oldFold = await proposeAndFold(repo, old)
        await proposeAndFold(repo, openaiKey())
        git(repo, 'checkout', `${oldFold}~`, '--', PROPOSAL)
        appendFileSync(join(repo, PROPOSAL), '\n')
        const found = await checkProposalReplays(repo, 'dev')
        expect(found).toMatchObject([{ code: 'KF154', file: PROPOSAL }])
        const validate = await keyfleet(['validate'], { cwd: repo, env: keyless() })
        expect(validate.code).toBe(1)
        expect(validate.stdout).toContain('KF154')
        expect(validate.stdout).toMatch(/KF150.*armor is not exactly as age writes it/)
        const before = secrets(repo)
        const refused = await keyfleet(['proposals', 'fold', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env: keyless() })
        expect(refused.code).not.toBe(0)
        expect(refused.stderr).toContain('KF154')
        expect(secrets(repo)).toBe(before)
        for (const out of [validate.stdout, validate.stderr, refused.stdout, refused.stderr]) expect(out).not.toContain(old)
    }, 120_000)

    it.each([
        ['CRLF line ends', (t: string) => t.replace(/\n/g, '\r\n')],
        ['no final newline', (t: string) => t.replace(/\n$/, '')],
        ['a leading space', (t: string) => ` ${t}`],
        ['48-column lines', (t: string) => {
            const lines = t.split('\n')
            const body = lines.slice(1, -2).join('')
            return `${lines[0]}\n${body.match(/.{1,48}/g)?.join('\n')}\n${lines.at(-2)}\n`
        }],
    ])('a fresh proposal with %s is refused (KF150) and has the same ciphertext digest', async (_what, mangle) => {
        const repo = makeDemoRepo()
        expect((await keyfleet(['propose', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${openaiKey()}\n`, env: keyless() })).code).toBe(0)
        const text = readFileSync(join(repo, PROPOSAL), 'utf8')
        // age's own CLI writes exactly this armor; the test only relies on keyfleet's file being canonical already.
        expect((await keyfleet(['validate'], { cwd: repo, env: keyless() })).stdout).not.toContain('KF150')
        const mangled = mangle(text)
        expect(mangled).not.toBe(text)
        expect(ciphertextDigest(Buffer.from(mangled))).toBe(ciphertextDigest(Buffer.from(text)))
        writeFileSync(join(repo, PROPOSAL), mangled)
        const validate = await keyfleet(['validate'], { cwd: repo, env: keyless() })
        expect(validate.code).toBe(1)
        expect(validate.stdout).toContain('KF150')
    }, 60_000)

    it('a proposal made before its key last changed is refused by the fold (KF155), though it was never in history', async () => {
        const repo = makeDemoRepo()
        const stale = openaiKey()
        expect((await keyfleet(['propose', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${stale}\n`, env: keyless() })).code).toBe(0)
        const staleFile = readFileSync(join(repo, PROPOSAL))
        // Someone else changes the key afterwards (here with a fold; \`keyfleet set\` is the same line change).
        rmSync(join(repo, PROPOSAL))
        expect((await keyfleet(['propose', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: `${openaiKey()}\n`, env: keyless() })).code).toBe(0)
        git(repo, 'add', '-A')
        git(repo, 'commit', '-q', '-m', 'propose')
        const fold = await keyfleet(['proposals', 'fold', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env: keyless() })
        expect(fold.code, fold.stderr).toBe(0)
        git(repo, 'add', '-A')
        // Commit times have whole seconds; date the change clearly after the stale proposal so the test cannot race.
        const later = `@${Math.floor(Date.now() / 1000) + 3600} +0000`
        execFileSync('git', ['commit', '-q', '-m', 'fold'], { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_COMMITTER_DATE: later } })

        mkdirSync(dirname(join(repo, PROPOSAL)), { recursive: true })
        writeFileSync(join(repo, PROPOSAL), staleFile)
        expect(await checkProposalReplays(repo, 'dev')).toEqual([])
        const before = secrets(repo)
        const refused = await keyfleet(['proposals', 'fold', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env: keyless() })
        expect(refused.code).not.toBe(0)
        expect(refused.stderr).toContain('PROPOSALS_INVALID')
        expect(refused.stderr).toMatch(/KF155.*before OPENAI_API_KEY last changed/)
        expect(refused.stderr).not.toContain(stale)
        expect(secrets(repo)).toBe(before)
    }, 120_000)

    it('checkProposalFreshness refuses a creation time that is not a time', async () => {
        const repo = makeDemoRepo()
        expect(await checkProposalFreshness(repo, 'dev', [{ name: 'OPENAI_API_KEY', file: PROPOSAL, created: 'yesterday' }]))
            .toMatchObject([{ code: 'KF155' }])
        expect(await checkProposalFreshness(repo, 'dev', [{ name: 'OPENAI_API_KEY', file: PROPOSAL, created: new Date(Date.now() + 60_000).toISOString() }])).toEqual([])
    }, 60_000)
})
