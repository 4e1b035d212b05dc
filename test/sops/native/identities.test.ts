/**
 * Identity lookup held against the real sops 3.13.2 binary: the same environment and the same
 * identity files given to `sops decrypt` and to keyfleet's native lookup (nativeIdentities + decryptSopsFile)
 * must both decrypt or both refuse; a refusal is a typed KeyfleetError, never an internal error.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { generateX25519Identity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptNative, nativeIdentities } from '../../../src/cli/repo-context.js'
import { KeyfleetError } from '../../../src/errors.js'
import { sopsPath } from '../../helpers/tools.js'

let dir: string
let key: string
let other: string
let encrypted: string

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kf-ids-'))
    key = await generateX25519Identity()
    other = await generateX25519Identity()
    writeFileSync(join(dir, 'p.env'), 'A=1\n')
    encrypted = execFileSync(sopsPath(), ['encrypt', '--age', await identityToRecipient(key), '--input-type', 'dotenv', '--output-type', 'dotenv', join(dir, 'p.env')], { cwd: dir, encoding: 'utf8', env: { SOPS_DISABLE_VERSION_CHECK: '1', HOME: dir } })
    writeFileSync(join(dir, 'e.env'), encrypted)
    mkdirSync(join(dir, 'adir'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() })

/** Files (relative to the case's HOME) and the environment; `${K}`/`${O}` stand for the right and the wrong key. */
interface Case { readonly name: string; readonly files?: Record<string, string>; readonly env: Record<string, string> }

const cases: Case[] = [
    { name: 'SOPS_AGE_KEY_FILE, age-keygen layout', files: { 'k.txt': '# created: now\n# public key: age1x\n${K}\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'CRLF line endings', files: { 'k.txt': '# c\r\n${K}\r\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'blank lines and no final newline', files: { 'k.txt': '\n\n${K}' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'leading space', files: { 'k.txt': ' ${K}\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'trailing space', files: { 'k.txt': '${K} \n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'indented comment', files: { 'k.txt': '  # c\n${K}\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'trailing word', files: { 'k.txt': '${K} mine\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'line of spaces', files: { 'k.txt': '   \n${K}\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'lowercase key', files: { 'k.txt': '${k}\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt' } },
    { name: 'missing SOPS_AGE_KEY_FILE', env: { SOPS_AGE_KEY_FILE: 'nope.txt' } },
    { name: 'directory SOPS_AGE_KEY_FILE', env: { SOPS_AGE_KEY_FILE: '@adir' } },
    { name: 'missing SOPS_AGE_KEY_FILE beside a valid SOPS_AGE_KEY', env: { SOPS_AGE_KEY_FILE: 'nope.txt', SOPS_AGE_KEY: '${K}' } },
    { name: 'directory SOPS_AGE_KEY_FILE beside a valid SOPS_AGE_KEY', env: { SOPS_AGE_KEY_FILE: '@adir', SOPS_AGE_KEY: '${K}' } },
    { name: 'malformed SOPS_AGE_KEY_FILE beside a valid SOPS_AGE_KEY', files: { 'k.txt': '${K} x\n' }, env: { SOPS_AGE_KEY_FILE: 'k.txt', SOPS_AGE_KEY: '${K}' } },
    { name: 'SOPS_AGE_KEY with spaces and two keys', env: { SOPS_AGE_KEY: '  ${O}   ${K}  ' } },
    { name: 'SOPS_AGE_KEY with an indented comment', env: { SOPS_AGE_KEY: '  # c\n${K}' } },
    { name: 'SOPS_AGE_KEY with a trailing word', env: { SOPS_AGE_KEY: '${K} word' } },
    { name: 'empty SOPS_AGE_KEY', env: { SOPS_AGE_KEY: '' } },
    { name: 'wrong key only', env: { SOPS_AGE_KEY: '${O}' } },
    { name: 'default ~/.config/sops/age/keys.txt', files: { '.config/sops/age/keys.txt': '${K}\n' }, env: {} },
    { name: 'XDG_CONFIG_HOME keys.txt', files: { 'xdg/sops/age/keys.txt': '${K}\n' }, env: { XDG_CONFIG_HOME: '@xdg' } },
    { name: 'XDG_CONFIG_HOME wins over ~/.config', files: { '.config/sops/age/keys.txt': '${K}\n' }, env: { XDG_CONFIG_HOME: '@xdg' } },
    { name: 'relative XDG_CONFIG_HOME', files: { '.config/sops/age/keys.txt': '${K}\n' }, env: { XDG_CONFIG_HOME: 'rel' } },
    { name: 'default keys.txt beside a wrong SOPS_AGE_KEY', files: { '.config/sops/age/keys.txt': '${K}\n' }, env: { SOPS_AGE_KEY: '${O}' } },
    { name: 'malformed default keys.txt', files: { '.config/sops/age/keys.txt': ' ${K}\n' }, env: {} },
    { name: 'SOPS_AGE_KEY_CMD', files: { 'k.txt': '${K}\n' }, env: { SOPS_AGE_KEY_CMD: 'cat @k.txt' } },
    { name: 'failing SOPS_AGE_KEY_CMD', env: { SOPS_AGE_KEY_CMD: 'false' } },
    { name: 'nothing at all', env: {} },
]

describe('identity lookup agrees with sops 3.13.2', () => {
    cases.forEach((c, n) => {
        it(c.name, async () => {
            const home = join(dir, `case${n}`)
            mkdirSync(home, { recursive: true })
            const fill = (text: string): string => text.replaceAll('${K}', key).replaceAll('${k}', key.toLowerCase()).replaceAll('${O}', other).replaceAll('@', `${home}/`)
            for (const [path, text] of Object.entries(c.files ?? {})) {
                mkdirSync(join(home, path, '..'), { recursive: true })
                writeFileSync(join(home, path), fill(text))
            }
            mkdirSync(join(home, 'adir'), { recursive: true })
            const env = Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, fill(v)]))
            const base = { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', SOPS_DISABLE_VERSION_CHECK: '1' }
            const sops = spawnSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', join(dir, 'e.env')], { cwd: home, env: { ...base, ...env }, encoding: 'utf8' })
            let native: 'ok' | KeyfleetError | Error
            try {
                const ctx = { cwd: home, env: { ...base, ...env }, stdin: Readable.from([]), stdout: sink(), stderr: sink() }
                const decrypted = await decryptNative(readFileSync(join(dir, 'e.env'), 'utf8'), { store: 'dotenv', identities: nativeIdentities(ctx, undefined) })
                native = decrypted.entries.length > 0 ? 'ok' : new Error('empty')
            } catch (error) {
                native = error as Error
            }
            const nativeOk = native === 'ok'
            expect({ case: c.name, sopsExit: sops.status, nativeOk }).toEqual({ case: c.name, sopsExit: nativeOk ? 0 : 128, nativeOk: sops.status === 0 })
            if (native !== 'ok') {
                expect(native).toBeInstanceOf(KeyfleetError)
                if (c.name === 'wrong key only') expect(native.message).toContain('identities tried: SOPS_AGE_KEY')
                expect(String(native.message)).not.toContain(key)
                expect(String(native.message)).not.toContain(other)
            }
        })
    })

    it('names the places it looked in when nothing is found', () => {
        const ctx = { cwd: dir, env: { HOME: join(dir, 'nohome'), SOPS_AGE_KEY_FILE: join(dir, 'nope.txt') }, stdin: Readable.from([]), stdout: sink(), stderr: sink() }
        expect(() => nativeIdentities(ctx, undefined)).toThrow(/NATIVE_NO_IDENTITY|no age identity found/)
        try { nativeIdentities(ctx, undefined) } catch (error) {
            expect((error as KeyfleetError).code).toBe('NATIVE_NO_IDENTITY')
            expect((error as Error).message).toContain('SOPS_AGE_KEY_FILE')
            expect((error as Error).message).toContain(join(dir, 'nohome', '.config', 'sops', 'age', 'keys.txt'))
        }
    })
})
