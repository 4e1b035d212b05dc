/** `keyfleet decrypt`, run in process with captured streams. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { sopsPath, vector } from '../helpers/tools.js'
import { newKey, sopsEncrypt } from '../sops/native/helpers.js'

const run = async (argv: string[], env: Record<string, string> = {}, cwd = process.cwd()) => {
    const stdout = new PassThrough(); const stderr = new PassThrough()
    let out = ''; let err = ''
    stdout.on('data', (c: Buffer) => { out += c.toString() })
    stderr.on('data', (c: Buffer) => { err += c.toString() })
    const code = await runCli(argv, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYFLEET_SOPS: sopsPath(), ...env }, stdin: new PassThrough(), stdout, stderr })
    return { code, out, err }
}

describe('keyfleet decrypt', () => {
    it('prints a vector as sops would, with --identity-file; --json is sops --output-type json (nested, typed)', async () => {
        const r = await run(['decrypt', vector('sops-age-dotenv/secret.enc.env'), '--identity-file', vector('sops-age-dotenv/key.txt')])
        expect(r).toMatchObject({ code: 0, out: 'secret=this is a secret\nanother_secret=7\n' })
        const j = await run(['decrypt', vector('sops-age-yaml/secret.enc.yaml'), '--identity-file', vector('sops-age-yaml/key.txt'), '--json'])
        expect(JSON.parse(j.out)).toEqual({ secret: 'this is a secret', string: 'string', int: 7, float: 3.14, boolean: true, complex: { value: 'this is a secret', array: ['one', 'two', 'three'] } })
    })

    it('--json and every --output-type print what `sops decrypt --output-type` prints, byte for byte (every vector)', async () => {
        const cases: [string, string, string][] = [
            ['sops-age-dotenv/secret.enc.env', 'sops-age-dotenv/key.txt', 'dotenv'], ['sops-age-yaml/secret.enc.yaml', 'sops-age-yaml/key.txt', 'yaml'],
            ['sops-age-json/secret.enc.json', 'sops-age-json/key.txt', 'json'], ['flux-binary/file.txt', 'flux-binary/age.txt', 'binary'],
            ['flux-dotenv/env.env', 'flux-dotenv/age.txt', 'dotenv'], ['flux-yaml-age-pq/age-pq.yaml', 'flux-yaml-age-pq/age-pq.txt', 'yaml'],
            ['flux-yaml-encrypted-regex/age.yaml', 'flux-yaml-encrypted-regex/age.txt', 'yaml'], ['sops-nix-yaml/secrets.yaml', 'sops-nix-yaml/age-keys.txt', 'yaml'],
        ]
        for (const [file, key, store] of cases) {
            for (const output of ['json', 'yaml', 'dotenv', 'binary']) {
                const env = { SOPS_AGE_KEY_FILE: vector(key), SOPS_DISABLE_VERSION_CHECK: '1', PATH: process.env.PATH ?? '', HOME: tmpdir() }
                const ref = spawnSync(sopsPath(), ['decrypt', '--input-type', store, '--output-type', output, vector(file)], { env, encoding: 'utf8' })
                const native = await run(['decrypt', vector(file), '--identity-file', vector(key), '--output-type', output])
                // Where sops refuses (nested values in dotenv, no string data for binary), native refuses too.
                expect({ output, file, ok: native.code === 0 }).toEqual({ output, file, ok: ref.status === 0 })
                if (ref.status === 0) expect({ output, file, out: native.out }).toEqual({ output, file, out: ref.stdout })
            }
            const viaJson = await run(['decrypt', vector(file), '--identity-file', vector(key), '--json'])
            expect(viaJson.out).toBe((await run(['decrypt', vector(file), '--identity-file', vector(key), '--output-type', 'json'])).out)
        }
    })

    it('reads SOPS_AGE_KEY_FILE and SOPS_AGE_KEY from the context env; --input-type overrides the extension', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-decrypt-'))
        const key = await newKey()
        writeFileSync(join(dir, 'env.secrets'), sopsEncrypt('A=1\n', 'dotenv', [key.recipient]))
        writeFileSync(join(dir, 'copy.txt'), sopsEncrypt('A=1\n', 'dotenv', [key.recipient]))
        writeFileSync(join(dir, 'keys.txt'), `${key.identity}\n`)
        expect(await run(['decrypt', 'env.secrets', '--input-type', 'dotenv', '--output-type', 'dotenv'], { SOPS_AGE_KEY_FILE: 'keys.txt' }, dir)).toMatchObject({ code: 0, out: 'A=1\n' })
        expect(await run(['decrypt', 'copy.txt', '--input-type', 'dotenv', '--output-type', 'dotenv'], { SOPS_AGE_KEY: key.identity }, dir)).toMatchObject({ code: 0, out: 'A=1\n' })
        expect((await run(['decrypt', 'copy.txt', '--input-type', 'toml'], {}, dir)).code).toBe(2)
    })

    it('--engine sops prints the same as the native engine', async () => {
        const args = ['decrypt', vector('sops-age-yaml/secret.enc.yaml'), '--identity-file', vector('sops-age-yaml/key.txt')]
        const native = await run(args)
        const sops = await run([...args, '--engine', 'sops'])
        expect(sops.code).toBe(0)
        expect(sops.out).toBe(native.out)
        const nativeJson = await run([...args, '--json'])
        expect((await run([...args, '--engine', 'sops', '--json'])).out).toBe(nativeJson.out)
    })

    it('a tampered file exits 3 with a clean message and writes no file', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-decrypt-'))
        const key = await newKey()
        const canary = makeCanary()
        const text = sopsEncrypt(`OPENAI_API_KEY=${canary}\nB=x\n`, 'dotenv', [key.recipient])
        const a = /^OPENAI_API_KEY=(.*)$/m.exec(text)?.[1] as string
        writeFileSync(join(dir, 'env.secrets'), text.replace(/^B=.*$/m, `B=${a}`))
        const r = await run(['decrypt', 'env.secrets', '--input-type', 'dotenv'], { SOPS_AGE_KEY: key.identity }, dir)
        expect(r.code).toBe(3)
        expect(r.err).toContain('[NATIVE_MAC_MISMATCH]')
        expect(r.out).toBe('')
        expect(findLeaks(canary, { out: r.out, err: r.err })).toEqual([])
        expect(r.err.includes(a)).toBe(false)
        expect(readdirSync(dir)).toEqual(['env.secrets'])
    })

    it('no identity exits 3 and says how to provide one', async () => {
        const r = await run(['decrypt', vector('flux-dotenv/env.env')])
        expect(r.code).toBe(3)
        expect(r.err).toContain('SOPS_AGE_KEY')
    })
})
