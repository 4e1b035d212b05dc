/**
 * showFile through one `git cat-file --batch` (validate/git-batch.ts) returns what `git show REF:PATH`
 * prints, byte for byte, for every kind of path the two-process path handled: binary and CRLF content,
 * spaces and a line break in the name, the index, a directory, a missing path, a missing ref, and many
 * reads at once; and no git process is left running afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { showFile } from '../../src/validate/git.js'

let root = ''
const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8' })
const gitShow = (spec: string): Buffer | undefined => {
    const r = spawnSync('git', ['show', spec], { cwd: root })
    return r.status === 0 ? r.stdout : undefined
}

const files: Record<string, Buffer> = {
    'a.txt': Buffer.from('A=1\n'),
    'bin.dat': Buffer.from([0, 1, 2, 10, 13, 10, 255, 0, 10]),
    'crlf.env': Buffer.from('A=1\r\nB=2\r\n'),
    'with space/and more.txt': Buffer.from('spaced\n'),
    'line\nbreak.txt': Buffer.from('odd name\n'),
    'empty.txt': Buffer.alloc(0),
    'dir/nested/x.env': Buffer.from('X=1'),
}

beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'keyfleet-git-batch-'))
    git('init', '-q')
    git('config', 'user.email', 't@example.com'); git('config', 'user.name', 't')
    for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(root, path, '..'), { recursive: true })
        writeFileSync(join(root, path), content)
    }
    git('add', '-A'); git('commit', '-qm', 'one')
    // A staged change that HEAD does not have.
    writeFileSync(join(root, 'a.txt'), 'A=2\n'); git('add', 'a.txt')
})
afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }) })

describe('showFile through git cat-file --batch = git show', () => {
    it('the same bytes or the same absence for each path at HEAD and in the index', async () => {
        for (const ref of ['HEAD', '']) {
            for (const path of [...Object.keys(files), 'missing.txt', 'dir', 'dir/nested']) {
                const ours = await showFile(root, ref, path)
                expect({ ref, path, bytes: ours?.toString('hex') }).toEqual({ ref, path, bytes: gitShow(`${ref}:${path}`)?.toString('hex') })
            }
        }
    })

    it('many reads at once answer each its own file, in any order', async () => {
        const paths = [...Object.keys(files), 'missing.txt', ...Object.keys(files).reverse()]
        const got = await Promise.all(paths.map((p) => showFile(root, 'HEAD', p)))
        expect(got.map((b) => b?.toString('hex'))).toEqual(paths.map((p) => gitShow(`HEAD:${p}`)?.toString('hex')))
    })

    it('reads seven files with one git process (the two-process path took fourteen)', async () => {
        const trace = join(root, '..', `${root.split('/').pop() ?? 'x'}.trace`)
        process.env.GIT_TRACE = trace
        try {
            await Promise.all(Object.keys(files).filter((p) => !p.includes('\n')).map((p) => showFile(root, 'HEAD', p)))
        } finally {
            delete process.env.GIT_TRACE
        }
        const runs = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('trace: built-in: git'))
        rmSync(trace, { force: true })
        expect(runs.map((l) => l.replace(/.*built-in: /, ''))).toEqual(['git cat-file --batch'])
    })

    it('a missing ref is GIT_FAILED as before; no git process is left behind', async () => {
        await expect(showFile(root, 'no-such-ref', 'a.txt')).rejects.toMatchObject({ code: 'GIT_FAILED' })
        // The reader closes once idle; wait (without a time limit that could fail) until its git has exited.
        const catFiles = (): string[] => spawnSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('cat-file'))
        for (let i = 0; i < 200 && catFiles().length > 0; i++) await new Promise((r) => setTimeout(r, 25))
        expect(catFiles()).toEqual([])
    })
})
