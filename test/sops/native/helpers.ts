/**
 * Test helpers: real sops runs in a private temp dir (cwd there, so the
 * repository's .sops.yaml is never picked up; keys only in the child env).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateHybridIdentity, generateIdentity, identityToRecipient } from 'age-encryption'
import { sopsPath } from '../../helpers/tools.js'
import type { StoreKind } from '../../../src/sops/native/index.js'

export interface TestKey { readonly identity: string; readonly recipient: string }

/** A fresh age key pair (X25519 or ML-KEM-768 hybrid). */
export const newKey = async (kind: 'x25519' | 'hybrid' = 'x25519'): Promise<TestKey> => {
    const identity = kind === 'hybrid' ? await generateHybridIdentity() : await generateIdentity()
    return { identity, recipient: await identityToRecipient(identity) }
}

const GLOBAL = ['--mac-only-encrypted', '--encrypted-comment-regex', '--unencrypted-comment-regex']
const isGlobal = (flag: string): boolean => GLOBAL.includes(flag)

const EXT: Record<StoreKind, string> = { dotenv: 'env', yaml: 'yaml', json: 'json', binary: 'bin' }

/** Runs sops in a fresh temp dir holding `name` = `text`; returns status, stdout, stderr. */
const inTemp = (name: string, text: string, args: (file: string) => string[], env: Record<string, string>): { status: number; stdout: string; stderr: string } => {
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-native-'))
    try {
        const file = join(dir, name)
        writeFileSync(file, text, { mode: 0o600 })
        const r = spawnSync(sopsPath(), args(file), { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1', ...env }, encoding: 'utf8' })
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}

/**
 * Encrypts `plaintext` with the real sops for `recipients`.
 * @param extra - extra sops flags, e.g. ['--encrypted-regex', '^data$'] or ['--mac-only-encrypted'].
 *   Global flags (--mac-only-encrypted, the comment regexes) are moved before the subcommand, where sops reads them.
 */
export const sopsEncrypt = (plaintext: string, store: StoreKind, recipients: readonly string[], extra: readonly string[] = []): string => {
    const r = inTemp(`plain.${EXT[store]}`, plaintext, (file) => [...extra.filter((f, i) => isGlobal(f) || (isGlobal(extra[i - 1] ?? '') && extra[i - 1] !== '--mac-only-encrypted')), 'encrypt', '--age', recipients.join(','), ...extra.filter((f, i) => !isGlobal(f) && !(isGlobal(extra[i - 1] ?? '') && extra[i - 1] !== '--mac-only-encrypted')), '--input-type', store, '--output-type', store, file], {})
    if (r.status !== 0) throw new Error(`sops encrypt failed (${r.status}): ${r.stderr}`)
    return r.stdout
}

/** `sops decrypt` of `text` with `identity`; status 0 and stdout on success. */
export const sopsDecryptText = (text: string, store: StoreKind, identity: string, outputType: StoreKind = store): { status: number; stdout: string } => {
    const r = inTemp(`enc.${EXT[store]}`, text, (file) => ['decrypt', '--input-type', store, '--output-type', outputType, file], { SOPS_AGE_KEY: identity })
    return { status: r.status, stdout: r.stdout }
}
