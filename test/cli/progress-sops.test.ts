/**
 * A command that waits on sops shows the progress line on a terminal (issue 15): `keyfleet decrypt --engine sops`
 * with a sops that takes a second and a half to answer (a wrapper that sleeps, then
 * runs the pinned sops) writes `keyfleet decrypt: working (sops, git)…` to a TTY stderr, erases it
 * before its output, and writes exactly sops' output to stdout; with a non-TTY stderr nothing.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import type { CliContext } from '../../src/cli/command.js'
import { repoRoot, sopsPath } from '../helpers/tools.js'

const dir = mkdtempSync(join(tmpdir(), 'keyfleet-progress-sops-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const slowSops = join(dir, 'slow-sops')
writeFileSync(slowSops, `#!/bin/sh\nsleep 1.5\nexec '${sopsPath()}' "$@"\n`)
chmodSync(slowSops, 0o755)

const run = async (tty: boolean): Promise<{ code: number; stdout: string; stderr: string }> => {
    const stdout = new PassThrough()
    const stderr = Object.assign(new PassThrough(), { isTTY: tty })
    const out: Buffer[] = []
    const err: Buffer[] = []
    stdout.on('data', (c: Buffer) => out.push(c))
    stderr.on('data', (c: Buffer) => err.push(c))
    const env = { PATH: process.env.PATH, HOME: dir, KEYFLEET_SOPS: slowSops, SOPS_AGE_KEY_FILE: join(repoRoot, 'examples', 'demo-keys', 'dev.agekey') }
    const ctx: CliContext = { cwd: repoRoot, env, stdin: Readable.from([]), stdout, stderr }
    const code = await runCli(['decrypt', '--engine', 'sops', '--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets'], ctx)
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }
}

describe('progress line while sops works', () => {
    it('a terminal sees it, erased before the output; a pipe never does', async () => {
        const onTty = await run(true)
        expect(onTty.code).toBe(0)
        expect(onTty.stderr).toBe('keyfleet decrypt: working (sops, git)…\r\x1b[K')
        const piped = await run(false)
        expect(piped).toEqual({ code: 0, stdout: onTty.stdout, stderr: '' })
        expect(piped.stdout).toContain('OPENAI_API_KEY=')
    }, 60_000)
})
