/**
 * `keyfleet decrypt` picks its stores as `sops decrypt` does: each of --input-type and
 * --output-type from its own flag, else from the file name (env.secrets is binary to sops),
 * never one from the other. The oracle is the sops 3.13.2 binary run with the same flags on
 * the same file; keyfleet must print the same bytes where sops succeeds and refuse where it fails.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { sopsPath } from '../helpers/tools.js'
import { newKey, sopsEncrypt } from '../sops/native/helpers.js'

const run = async (argv: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; out: Buffer; err: string }> => {
    const stdout = new PassThrough(); const stderr = new PassThrough()
    const out: Buffer[] = []; let err = ''
    stdout.on('data', (c: Buffer) => { out.push(c) })
    stderr.on('data', (c: Buffer) => { err += c.toString() })
    const code = await runCli(argv, { cwd, env: { PATH: process.env.PATH, HOME: cwd, KEYFLEET_SOPS: sopsPath(), ...env }, stdin: new PassThrough(), stdout, stderr })
    return { code, out: Buffer.concat(out), err }
}

describe('keyfleet decrypt defaults its stores like sops decrypt', () => {
    it('with no flags, with --input-type alone and with --output-type alone, on names sops maps to other stores', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-decrypt-defaults-'))
        const key = await newKey()
        const dotenv = sopsEncrypt('A=1\nB=x y\n', 'dotenv', [key.recipient])
        const yaml = sopsEncrypt('a: 1\nb:\n  - x\n', 'yaml', [key.recipient])
        const json = sopsEncrypt('{"a": "x", "n": 2}', 'json', [key.recipient])
        const binary = sopsEncrypt('payload\n', 'binary', [key.recipient])
        const files: Record<string, string> = {
            'env.secrets': dotenv, 'e.txt': dotenv, 'e.yaml': dotenv, 'e.json': dotenv, 'e.env': dotenv,
            'y.json': yaml, 'y.env': yaml, 'y.secrets': yaml, 'j.yaml': json, 'j.env': json, 'b.yaml': binary, 'b.bin': binary, 'b.env': binary,
        }
        for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
        const inputOf: Record<string, string> = { e: 'dotenv', y: 'yaml', j: 'json', b: 'binary' }
        const flagSets = (name: string): string[][] => {
            const input = inputOf[name[0] as string] ?? 'dotenv'
            return [[], ['--input-type', input], ['--output-type', 'json'], ['--input-type', input, '--output-type', 'yaml'], ['--input-type', input, '--output-type', 'dotenv']]
        }
        const env = { SOPS_AGE_KEY: key.identity }
        let agreedOk = 0
        for (const name of Object.keys(files)) {
            for (const flags of flagSets(name)) {
                const ref = spawnSync(sopsPath(), ['decrypt', ...flags, name], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1', ...env } })
                const ours = await run(['decrypt', ...flags, name], env, dir)
                const what = `${name} ${flags.join(' ')}`
                expect({ what, ok: ours.code === 0 }).toEqual({ what, ok: ref.status === 0 })
                if (ref.status === 0) { expect({ what, out: ours.out.toString('latin1') }).toEqual({ what, out: ref.stdout.toString('latin1') }); agreedOk++ }
                else expect({ what, out: ours.out.length }).toEqual({ what, out: 0 })
            }
        }
        // The sweep must exercise both outcomes: some combinations decrypt, others are refused by both.
        expect(agreedOk).toBeGreaterThan(10)
    }, 120_000)

    it('env.secrets without flags is refused (sops reads it as binary JSON) with a message naming the flags to pass', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-decrypt-defaults-'))
        const key = await newKey()
        writeFileSync(join(dir, 'env.secrets'), sopsEncrypt('A=1\n', 'dotenv', [key.recipient]))
        const r = await run(['decrypt', 'env.secrets'], { SOPS_AGE_KEY: key.identity }, dir)
        expect(r.code).toBe(3)
        expect(r.err).toContain('--input-type dotenv --output-type dotenv')
        expect(r.out.length).toBe(0)
        expect((await run(['decrypt', 'env.secrets', '--input-type', 'dotenv', '--output-type', 'dotenv'], { SOPS_AGE_KEY: key.identity }, dir)).out.toString()).toBe('A=1\n')
    })
})
