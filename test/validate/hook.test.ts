/**
 * `keyfleet hook install` (the built CLI, whose path the hook records) and
 * `keyfleet scan`, through the CLI in process.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { HOOK_MARKER, hookScript, installHook } from '../../src/validate/index.js'
import { findLeaks } from '../helpers/canary.js'
import { repoRoot } from '../helpers/tools.js'
import { cli } from './cli-io.js'
import { fakeKey, makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => { f = await makeFixture() })
afterAll(() => f.cleanup())

const MAIN = join(repoRoot, 'dist', 'src', 'cli', 'main.js')
/** The built CLI, spawned: the hook must name a real keyfleet, which only the built one is. */
const built = (argv: string[], cwd: string): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [MAIN, ...argv], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: cwd } })
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
/** `git commit` with a PATH holding git and sh only: no keyfleet, no npx. */
const commit = (root: string): { code: number; out: string } => {
    const bin = mkdtempSync(join(tmpdir(), 'keyfleet-path-'))
    for (const tool of ['git', 'sh']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool))
    const r = spawnSync('git', ['commit', '-q', '-m', 'x'], {
        cwd: root, encoding: 'utf8',
        env: { PATH: bin, HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    })
    rmSync(bin, { recursive: true, force: true })
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}

describe('the hook text', () => {
    test('names node and the CLI script by absolute path, quoted for sh; no PATH lookup, no npx', () => {
        const script = hookScript({ node: '/opt/node 20/bin/node', script: "/home/o'brien/keyfleet/dist/src/cli/main.js" })
        expect(script.startsWith('#!/bin/sh\n')).toBe(true)
        expect(script).toContain(HOOK_MARKER)
        expect(script).toContain("KEYFLEET_NODE='/opt/node 20/bin/node'\n")
        expect(script).toContain("KEYFLEET_CLI='/home/o'\\''brien/keyfleet/dist/src/cli/main.js'\n")
        expect(script).toContain('exec "$KEYFLEET_NODE" "$KEYFLEET_CLI" scan --staged')
        expect(script).not.toMatch(/npx|command -v/)
        expect(script).toContain('the keyfleet that installed this hook no longer exists')
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-hooktext-'))
        try {
            writeFileSync(join(dir, 'pre-commit'), script)
            expect(execFileSync('sh', ['-n', join(dir, 'pre-commit')]).toString()).toBe('')
            // The quoting round-trips through sh: the variables hold the paths exactly.
            const echoed = execFileSync('sh', ['-c', `${script.split('\n').filter((l) => l.startsWith('KEYFLEET_')).join('\n')}\nprintf '%s|%s' "$KEYFLEET_NODE" "$KEYFLEET_CLI"`], { encoding: 'utf8' })
            expect(echoed).toBe("/opt/node 20/bin/node|/home/o'brien/keyfleet/dist/src/cli/main.js")
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })
})

describe('keyfleet hook install (built CLI)', () => {
    test('writes an executable hook naming this keyfleet; refuses a foreign hook without --force', () => {
        const path = join(f.root, '.git', 'hooks', 'pre-commit')
        const first = built(['hook', 'install'], f.root)
        expect(first).toMatchObject({ code: 0 })
        expect(first.stdout).toContain('created')
        const script = readFileSync(path, 'utf8')
        expect(script).toContain(HOOK_MARKER)
        expect(script).toContain(`KEYFLEET_NODE='${process.execPath}'`)
        expect(script).toContain(`KEYFLEET_CLI='${MAIN}'`)
        expect(statSync(path).mode & 0o111).not.toBe(0)
        expect(built(['hook', 'install'], f.root).stdout).toContain('updated')

        writeFileSync(path, '#!/bin/sh\nexec lint-staged\n')
        const refused = built(['hook', 'install'], f.root)
        expect(refused.code).toBe(2)
        expect(refused.stderr).toContain('HOOK_EXISTS')
        expect(readFileSync(path, 'utf8')).toContain('lint-staged')
        const forced = built(['hook', 'install', '--force'], f.root)
        expect(forced.code).toBe(0)
        expect(forced.stdout).toContain('replaced')
        expect(readFileSync(path, 'utf8')).toContain(HOOK_MARKER)
    })

    test('a commit with keyfleet not on PATH: the hook runs the installing CLI and blocks a staged key, with no npm noise', () => {
        expect(built(['hook', 'install', '--force'], f.root).code).toBe(0)
        const key = fakeKey.openai()
        f.write('app/hooked.py', `OPENAI = "${key}"\n`)
        f.git('add', 'app/hooked.py')
        try {
            const blocked = commit(f.root)
            expect(blocked.code).not.toBe(0)
            expect(blocked.out).toContain('app/hooked.py:1: error KF130')
            expect(blocked.out).not.toMatch(/npm|npx/)
            expect(findLeaks(key, { out: blocked.out })).toEqual([])
        } finally {
            f.git('rm', '-q', '--cached', 'app/hooked.py')
        }
    })

    test('when the installing CLI is gone the commit is blocked with a message saying how to reinstall', async () => {
        const path = join(f.root, '.git', 'hooks', 'pre-commit')
        await installHook(f.root, { cli: { node: process.execPath, script: join(f.root, 'gone', 'main.js') }, force: true })
        f.write('app/clean.txt', 'nothing secret\n')
        f.git('add', 'app/clean.txt')
        try {
            const blocked = commit(f.root)
            expect(blocked.code).toBe(1)
            expect(blocked.out).toContain('the keyfleet that installed this hook no longer exists')
            expect(blocked.out).toContain(join(f.root, 'gone', 'main.js'))
            expect(blocked.out).toContain('keyfleet hook install')
            expect(blocked.out).toContain('.git/hooks/pre-commit')
            expect(blocked.out).not.toMatch(/npm|npx/)
        } finally {
            f.git('rm', '-q', '--cached', 'app/clean.txt')
            rmSync(path)
        }
    })
})

describe('keyfleet scan', () => {
    test('--staged exits 1 on a staged key, prints file:line and a hint, never the key; 0 when clean', async () => {
        expect(await cli(['scan', '--staged'], f.root)).toMatchObject({ code: 0, stdout: '' })
        const key = fakeKey.openai()
        f.write('app/config.py', `import os\nOPENAI = "${key}"\n`)
        f.git('add', 'app/config.py')
        const run = await cli(['scan', '--staged'], f.root)
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^app\/config\.py:2: error KF130 plaintext openai key \(openai, \d+ chars, …/)
        const json = await cli(['scan', '--staged', '--json'], f.root)
        expect(JSON.parse(json.stdout).findings).toHaveLength(1)
        const files = await cli(['scan', 'app/config.py'], f.root)
        expect(files.code).toBe(1)
        const all = await cli(['scan', '--all'], f.root)
        expect(all.code).toBe(1)
        for (const r of [run, json, files, all]) expect(findLeaks(key, { stdout: r.stdout, stderr: r.stderr })).toEqual([])
        f.git('rm', '-q', '--cached', 'app/config.py')
    })

    test('usage: exactly one scope; the usage line shows the choice is required', async () => {
        const bare = await cli(['scan'], f.root)
        expect(bare.code).toBe(2)
        expect(bare.stderr).toContain('say what to scan: exactly one of --staged, --all, --base <ref> or a list of files')
        const help = await cli(['scan', '--help'], f.root)
        expect(help.stdout).toContain('scan (--staged | --all | --base <ref> [--head <ref>] | FILE...)')
        expect(help.stdout).not.toContain('scan [--staged')
        expect((await cli(['scan', '--all', '--staged'], f.root)).code).toBe(2)
        expect((await cli(['scan', '--head', 'HEAD', 'x'], f.root)).code).toBe(2)
    })
})
