/**
 * src/validate/git-run.ts: one git process, its output whole. Held to git itself: the bytes it
 * writes come back unchanged (a trailing newline and non-UTF-8 bytes included), a failing git is
 * a failed result with its stderr, a git not on PATH is ENOENT, and an output over the cap fails
 * instead of filling memory.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runGit } from '../../src/validate/git-run.js'
import { headState, trackedFiles } from '../../src/validate/git.js'

let dir: string
beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyfleet-git-run-'))
    execFileSync('git', ['init', '-q', dir])
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe('runGit', () => {
    it('returns exactly the bytes git wrote (what `git show` prints, trailing newline and non-UTF-8 bytes too)', async () => {
        const bytes = Buffer.from([0x41, 0xff, 0xfe, 0x0a, 0x00, 0x42, 0x0a])
        writeFileSync(join(dir, 'blob.bin'), bytes)
        const id = execFileSync('git', ['hash-object', '-w', 'blob.bin'], { cwd: dir, encoding: 'utf8' }).trim()
        const run = await runGit(dir, ['cat-file', 'blob', id])
        expect(run.failed).toBe(false)
        expect(run.exitCode).toBe(0)
        expect(Buffer.compare(run.stdout, bytes)).toBe(0)
        expect(Buffer.compare(run.stdout, execFileSync('git', ['cat-file', 'blob', id], { cwd: dir }))).toBe(0)
    })

    it('a failing git is a failed result with its exit code and stderr, never a throw', async () => {
        const run = await runGit(dir, ['rev-parse', '--verify', 'no-such-ref^{commit}'])
        expect(run).toMatchObject({ failed: true, exitCode: 128 })
        expect(run.stderr).toMatch(/fatal/)
    })

    it('git not on PATH: failed with code ENOENT', async () => {
        const path = process.env.PATH
        process.env.PATH = join(dir, 'nothing-here')
        try {
            expect(await runGit(dir, ['--version'])).toMatchObject({ failed: true, code: 'ENOENT' })
        } finally {
            process.env.PATH = path
        }
    })

    it('an output over the cap fails, and keeps nothing of it', async () => {
        writeFileSync(join(dir, 'big.txt'), 'x'.repeat(200_000))
        const id = execFileSync('git', ['hash-object', '-w', 'big.txt'], { cwd: dir, encoding: 'utf8' }).trim()
        const run = await runGit(dir, ['cat-file', 'blob', id], 1024)
        expect(run.failed).toBe(true)
        expect(run.stdout.length).toBe(0)
        expect((await runGit(dir, ['cat-file', 'blob', id], 200_000)).stdout.length).toBe(200_000)
    })
})

describe('git.ts errors', () => {
    it('a directory that does not exist is GIT_FAILED naming it, not "install git" (node says ENOENT for both)', async () => {
        const gone = join(dir, 'no-such-dir')
        await expect(trackedFiles(gone)).rejects.toMatchObject({ code: 'GIT_FAILED', message: expect.stringContaining(`${gone} does not exist`) as unknown })
        const path = process.env.PATH
        process.env.PATH = join(dir, 'nothing-here')
        try {
            await expect(trackedFiles(dir)).rejects.toMatchObject({ code: 'GIT_MISSING' })
        } finally {
            process.env.PATH = path
        }
    })

    it('an argument git cannot be given (a NUL byte) is a failed result, and its text is not in it', async () => {
        const run = await runGit(dir, ['rev-parse', 'sk-canary\0value'])
        expect(run.failed).toBe(true)
        expect(JSON.stringify(run)).not.toContain('sk-canary')
    })
})

describe('headState: work tree and HEAD in one git run', () => {
    it('none outside a work tree, unborn before the first commit, commit after it', async () => {
        const plain = mkdtempSync(join(tmpdir(), 'keyfleet-not-git-'))
        try {
            expect(await headState(plain)).toBe('none')
        } finally {
            rmSync(plain, { recursive: true, force: true })
        }
        expect(await headState(dir)).toBe('unborn')
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'first'], { cwd: dir })
        expect(await headState(dir)).toBe('commit')
        expect(await headState(join(dir, '.git'))).toBe('none')
    })
})
