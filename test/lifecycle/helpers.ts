/** Shared steps of the lifecycle tests: real sops decryption, data-key extraction, identities. */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { open, parseIdentityFile, recipientOf } from '../../src/age/index.js'
import { loadCatalog, type Catalog } from '../../src/catalog/index.js'
import { parseDotenvOutput, type SopsOptions } from '../../src/sops/index.js'
import { parseSopsFile } from '../../src/sops/native/index.js'
import { demoKey } from '../helpers/cli.js'
import { sopsPath } from '../helpers/tools.js'

type Who = Parameters<typeof demoKey>[1]

/** The identities in a demo key file of `repo`. */
export const identitiesOf = (repo: string, who: Who): string[] => parseIdentityFile(readFileSync(demoKey(repo, who), 'utf8'))

/** The recipient of a demo key. */
export const recipientOfDemo = async (repo: string, who: Who): Promise<string> => recipientOf(identitiesOf(repo, who)[0] as string)

/** sops options for `repo` with the pinned binary and a demo identity file. */
export const sopsWith = (repo: string, who: Who): SopsOptions => ({
    cwd: repo, sopsPath: sopsPath(), identity: { ageKeyFile: demoKey(repo, who) },
    ...(process.env.PATH ? { pathEnv: process.env.PATH } : {}), ...(process.env.HOME ? { home: process.env.HOME } : {}),
})

/** Decrypts with the real sops binary; `code` is sops's exit code (128: no identity could unwrap the key). */
export const realDecrypt = (repo: string, env: string, identityFile: string): { code: number | null; values: Map<string, string> } => {
    const result = spawnSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', `environments/${env}/env.secrets`], {
        cwd: repo, encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, SOPS_AGE_KEY_FILE: identityFile, SOPS_DISABLE_VERSION_CHECK: '1' },
    })
    return { code: result.status, values: result.status === 0 ? parseDotenvOutput(result.stdout) : new Map() }
}

/** The 32-byte data key of an env.secrets, unwrapped with `identities`, as hex (for comparing before and after). */
export const dataKeyHex = async (repo: string, env: string, identities: readonly string[]): Promise<string> => {
    const text = readFileSync(join(repo, 'environments', env, 'env.secrets'), 'utf8')
    const { metadata } = parseSopsFile(text, { store: 'dotenv', file: 'env.secrets' })
    for (const stanza of metadata.age) {
        try { return Buffer.from(await open(stanza.enc, identities)).toString('hex') } catch { /* another recipient's stanza */ }
    }
    throw new Error('no stanza opens with the given identities')
}

/** The demo repository's catalog. */
export const catalogOf = (repo: string): Catalog => loadCatalog(join(repo, 'environments', 'keyfleet.yaml'))

/** A value that passes the OpenAI format rule, unique per call. */
export const openaiKey = (): string => `sk-proj-${randomBytes(24).toString('hex')}`
