/**
 * Ctrl-C while sops works on the temp copy: the built CLI exits 130, removes
 * its temp copy, and env.secrets is unchanged.
 */
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, makeDemoRepo } from '../helpers/cli.js'
import { repoRoot } from '../helpers/tools.js'

describe('interrupting a write', () => {
    // The bundle too: there the signal handler (main.js) and the command (its own bundle) each carry a
    // copy of repo/atomic.ts, which share one registry of temps in flight.
    it.each(['dist/src/cli/main.js', 'dist/cli/main.js'])('leaves no temp copy and the file unchanged (%s)', async (cli) => {
        const repo = makeDemoRepo()
        const bin = mkdtempSync(join(tmpdir(), 'keyfleet-slow-sops-'))
        const fakeSops = join(bin, 'sops')
        // Answers the version probe, then hangs as a sops waiting on a slow key service would.
        writeFileSync(fakeSops, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "sops 3.13.2 (latest)"; exit 0; fi\ntouch "$0.started"\nexec sleep 30\n')
        chmodSync(fakeSops, 0o755)
        const before = readFileSync(join(repo, 'environments/dev/env.secrets'))
        const child = spawn(process.execPath, [join(repoRoot, cli), 'set', 'dev', 'OPENAI_API_KEY'], {
            cwd: repo, env: { PATH: process.env.PATH, KEYFLEET_SOPS: fakeSops, SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }, stdio: ['pipe', 'pipe', 'pipe'],
        })
        child.stdin.end('sk-proj-INTERRUPTEDabcdefghijklmnopqrstu\n')
        // Wait until sops runs on the temp copy, then press Ctrl-C.
        for (let i = 0; i < 200 && !readdirSync(bin).includes('sops.started'); i++) await new Promise((r) => setTimeout(r, 25))
        expect(readdirSync(join(repo, 'environments/dev')).some((f) => f.endsWith('.tmp'))).toBe(true)
        const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve); child.kill('SIGINT') })
        expect(code).toBe(130)
        expect(readdirSync(join(repo, 'environments/dev')).sort()).toEqual(['deployment.yaml', 'env.secrets'])
        expect(readFileSync(join(repo, 'environments/dev/env.secrets'))).toEqual(before)
    })
})
