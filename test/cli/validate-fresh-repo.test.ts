/**
 * `keyfleet validate` in a repository with no commit yet (`git init`, files
 * staged): there is no HEAD to diff against, so the plaintext scan covers
 * every staged and untracked file (against git's empty tree) instead of
 * scanning nothing. Real git builds the repository.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { git, keyfleet } from '../helpers/cli.js'
import { repoRoot } from '../helpers/tools.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'

describe('validate before the first commit', () => {
    it('a staged plaintext key is KF130 and fails the run', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-fresh-'))
        for (const part of ['.sops.yaml', 'environments']) cpSync(join(repoRoot, part), join(dir, part), { recursive: true })
        git(dir, 'init', '-q', '-b', 'main')
        const key = makeCanary('sk-proj-')
        writeFileSync(join(dir, 'leaked.env'), `OPENAI_API_KEY=${key}\n`)
        git(dir, 'add', '-A')
        const r = await keyfleet(['validate'], { cwd: dir, env: {} })
        expect(r.code, r.stdout + r.stderr).not.toBe(0)
        expect(r.stdout).toMatch(/^leaked\.env:1: error KF130 /m)
        expect(r.stdout).toContain('no commit yet')
        expect(r.stdout).not.toContain('not a git repository')
        expect(findLeaks(key, { stdout: r.stdout, stderr: r.stderr })).toEqual([])
    })
})
