/**
 * `keyfleet run`: the child gets the key in its environment and nowhere else (canary across stdout,
 * stderr, every file in the repository and the child's own argv), precedence follows the loader,
 * exit codes and signals pass through.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filesUnder, findLeaks, makeCanary } from '../helpers/canary.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { repoRoot } from '../helpers/tools.js'

const canary = makeCanary()
let repo: string
let side: string

// The child reports what it saw without printing the value: whether the variable equals the canary,
// whether its argv (from /proc, as any other process would see it) holds it, and any other value it got.
const probe = `
const fs = require('node:fs')
const v = process.env.FIREWORKS_API_KEY
const expected = [...process.argv[3]].reverse().join('')
const cmdline = fs.readFileSync('/proc/self/cmdline', 'latin1')
fs.writeFileSync(process.argv[2], JSON.stringify({ isCanary: v === expected, argvHas: cmdline.includes(expected), other: v === expected ? null : v ?? null, openai: process.env.OPENAI_API_KEY !== undefined }))
`

beforeAll(async () => {
    repo = makeDemoRepo()
    side = mkdtempSync(join(tmpdir(), 'keyfleet-run-'))
    writeFileSync(join(side, 'probe.js'), probe)
    const set = await keyfleet(['set', 'dev', 'FIREWORKS_API_KEY', '--force'], { cwd: repo, stdin: canary, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
    expect(set.code, set.stderr).toBe(0)
})
afterAll(() => {
    rmSync(repo, { recursive: true, force: true })
    rmSync(side, { recursive: true, force: true })
})

// The probe compares against the canary reversed, so that its own argv never holds the canary itself.
const reversed = (): string => [...canary].reverse().join('')
const runProbe = async (extra: string[], env: Record<string, string> = {}): Promise<{ code: number; seen: Record<string, unknown>; out: string }> => {
    const result = join(side, `seen-${Math.random().toString(36).slice(2)}.json`)
    const r = await keyfleet(['run', 'dev', ...extra, '--', process.execPath, join(side, 'probe.js'), result, reversed()], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev'), ...env } })
    return { code: r.code, seen: JSON.parse(readFileSync(result, 'utf8')) as Record<string, unknown>, out: r.stdout + r.stderr }
}

describe('keyfleet run', () => {
    it('passes the key in the environment only; nothing printed or written holds it', async () => {
        const { code, seen, out } = await runProbe([])
        expect(code, out).toBe(0)
        expect(seen).toMatchObject({ isCanary: true, argvHas: false, openai: true })
        const haystacks = { out, ...filesUnder(repo, (p) => p.includes(`${join(repo, '.git')}/`)), ...filesUnder(side) }
        expect(findLeaks(canary, haystacks)).toEqual([])
    })

    it('a variable already set wins, a placeholder does not, --override replaces', async () => {
        expect((await runProbe([], { FIREWORKS_API_KEY: 'fw-mine' })).seen).toMatchObject({ isCanary: false, other: 'fw-mine' })
        expect((await runProbe([], { FIREWORKS_API_KEY: 'changeme' })).seen).toMatchObject({ isCanary: true })
        expect((await runProbe(['--override'], { FIREWORKS_API_KEY: 'fw-mine' })).seen).toMatchObject({ isCanary: true })
    })

    it('--only passes the named keys and services only', async () => {
        expect((await runProbe(['--only', 'FIREWORKS_API_KEY'])).seen).toMatchObject({ isCanary: true, openai: false })
        expect((await runProbe(['--only', 'openai'])).seen).toMatchObject({ other: null, openai: true })
        const bad = await keyfleet(['run', 'dev', '--only', 'nosuch', '--', 'true'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') } })
        expect(bad.code).toBe(2)
        expect(bad.stderr).toContain('RUN_UNKNOWN_NAME')
    })

    it('passes the exit code through, and a death by signal as 128+n', async () => {
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') }
        expect((await keyfleet(['run', 'dev', '--', 'sh', '-c', 'exit 7'], { cwd: repo, env })).code).toBe(7)
        expect((await keyfleet(['run', 'dev', '--', 'sh', '-c', 'kill -TERM $$'], { cwd: repo, env })).code).toBe(143)
    })

    it('a program not found exits 127 and one not executable 126, as the shell does (oracle: sh), naming the program', async () => {
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') }
        const plain = join(side, 'not-executable.sh')
        writeFileSync(plain, '#!/bin/sh\nexit 0\n', { mode: 0o644 })
        const shell = (program: string): number | null => spawnSync('sh', ['-c', '"$0"', program], { stdio: 'ignore' }).status
        for (const [program, code, expected] of [
            ['no-such-program-kf', 'RUN_COMMAND_NOT_FOUND', 'not found on PATH'],
            [join(side, 'no-such-file-kf'), 'RUN_COMMAND_NOT_FOUND', 'no such file'],
            [plain, 'RUN_COMMAND_NOT_EXECUTABLE', 'it is not an executable file'],
            [side, 'RUN_COMMAND_NOT_EXECUTABLE', 'it is not an executable file'],
        ] as const) {
            const r = await keyfleet(['run', 'dev', '--', program], { cwd: repo, env })
            expect({ program, code: r.code }).toEqual({ program, code: shell(program) })
            expect(r.stderr).toContain(`[${code}]`)
            expect(r.stderr).toContain(`cannot run ${JSON.stringify(program)}: ${expected}`)
        }
        expect(shell('no-such-program-kf')).toBe(127)
        expect(shell(plain)).toBe(126)
    })

    it('forwards SIGTERM sent to keyfleet alone, waits, and exits with the child (built CLI)', async () => {
        const started = join(side, 'started')
        // The child traps TERM and exits 42: 42 proves the signal reached it and keyfleet waited for it.
        const cli = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'run', 'dev', '--', 'sh', '-c', `trap 'exit 42' TERM; touch '${started}'; sleep 30 & wait`], {
            cwd: repo, env: { PATH: process.env.PATH, HOME: side, SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') }, stdio: 'ignore',
        })
        for (let i = 0; i < 400 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 25))
        expect(existsSync(started)).toBe(true)
        const code = await new Promise<number | null>((resolve) => { cli.on('exit', resolve); cli.kill('SIGTERM') })
        expect(code).toBe(42)
    })
})
