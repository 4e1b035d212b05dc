/**
 * One repository root rule (docs/repository.md): every command finds the root by walking up from the
 * working directory, fails with REPO_NOT_FOUND when there is none, and `diff` never exits 0 for want
 * of anything to compare.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, git, keyfleet, makeDemoRepo } from '../helpers/cli.js'

describe('repository root', () => {
    it('ls, validate, render and diff work from environments/dev', async () => {
        const repo = makeDemoRepo()
        const cwd = join(repo, 'environments', 'dev')
        const out = mkdtempSync(join(tmpdir(), 'keyfleet-root-out-'))
        rmSync(out, { recursive: true })
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') }
        for (const argv of [['ls', 'dev'], ['validate'], ['render', 'dev', '--out', out], ['diff', '--base', 'HEAD']]) {
            const r = await keyfleet(argv, { cwd, env })
            expect({ argv, code: r.code, stderr: r.stderr }).toMatchObject({ argv, code: 0 })
        }
    })

    it('every command says REPO_NOT_FOUND outside a repository, and for a --root that is not one', async () => {
        const empty = mkdtempSync(join(tmpdir(), 'keyfleet-norepo-'))
        for (const argv of [['ls', 'dev'], ['validate'], ['render', 'dev', '--out', join(empty, 'o')], ['diff', '--base', 'HEAD'], ['get', 'dev', 'openai'], ['run', 'dev', '--', 'true'], ['registry', 'dev'], ['unset', 'dev', 'OPENAI_API_KEY']]) {
            const r = await keyfleet(argv, { cwd: empty })
            expect({ argv, code: r.code, repoNotFound: r.stderr.includes('REPO_NOT_FOUND') || r.stderr.includes('no keyfleet repository here') }).toEqual({ argv, code: 2, repoNotFound: true })
        }
        const repo = makeDemoRepo()
        const r = await keyfleet(['validate', '--root', empty], { cwd: repo })
        expect(r.code).toBe(2)
        expect(r.stderr).toContain('REPO_NOT_FOUND')
        rmSync(empty, { recursive: true, force: true })
    })

    it('diff with no env.secrets at either revision fails', async () => {
        const repo = makeDemoRepo()
        for (const env of ['dev', 'stage', 'prod']) git(repo, 'rm', '-q', `environments/${env}/env.secrets`)
        git(repo, 'commit', '-q', '-m', 'no secrets')
        const r = await keyfleet(['diff', '--base', 'HEAD'], { cwd: repo })
        expect(r.code).toBe(2)
        expect(r.stderr).toContain('DIFF_NOTHING_TO_COMPARE')
    })
})
