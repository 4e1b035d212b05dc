/**
 * Decrypts an environment in process and masks every value before returning
 * it: no caller can hold a decrypted value the runner does not yet mask.
 * This is the only place in the action that decrypts first-hand; the
 * validate and render modules decrypt again internally, after the masks are
 * in place.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyfleetError } from '../errors.js'
import { decryptSopsFile, parseSopsFile } from '../sops/native/index.js'
import { showFile } from '../validate/git.js'
import { maskAll, type SetSecret } from './mask.js'

/** Repository-relative path of an environment's secrets file. */
export const secretsFile = (env: string): string => `environments/${env}/env.secrets`

/**
 * Reads `environments/<env>/env.secrets` under `root` (still encrypted).
 *
 * @throws KeyfleetError `ACTION_NO_SECRETS_FILE` when the file is missing.
 */
export const readSecretsText = async (root: string, env: string): Promise<string> => {
    const file = secretsFile(env)
    try {
        return await readFile(join(root, file), 'utf8')
    } catch {
        throw new KeyfleetError('ACTION_NO_SECRETS_FILE', `${file} does not exist: create it with \`keyfleet set ${env} <NAME>\` or \`keyfleet import\`.`, { file })
    }
}

/**
 * Decrypts the text of an env.secrets file, masks every value and returns
 * NAME → value.
 *
 * @param file - Repository-relative path, for error messages and annotations.
 * @throws KeyfleetError the native decryptor's errors (MAC mismatch, no
 *   matching identity, malformed file) unchanged, each naming the file.
 */
export const decryptTextAndMask = async (text: string, file: string, identities: readonly string[], setSecret: SetSecret): Promise<Map<string, string>> => {
    const decrypted = await decryptSopsFile(text, { store: 'dotenv', identities: [...identities], file })
    const values = decrypted.toEnvMap()
    maskAll(values.values(), setSecret)
    return values
}

/**
 * Decrypts `environments/<env>/env.secrets` under `root`, masks every value
 * and returns NAME → value.
 *
 * @throws KeyfleetError `ACTION_NO_SECRETS_FILE` when the file is missing;
 *   the native decryptor's errors (MAC mismatch, no matching identity,
 *   malformed file) unchanged, each naming the file.
 */
export const decryptAndMask = async (root: string, env: string, identities: readonly string[], setSecret: SetSecret): Promise<Map<string, string>> =>
    decryptTextAndMask(await readSecretsText(root, env), secretsFile(env), identities, setSecret)

/** The line of each top-level name in an env.secrets text (no decryption), for annotations. */
export const secretLines = (text: string, file: string): Map<string, number> => {
    const lines = new Map<string, number>()
    for (const leaf of parseSopsFile(text, { store: 'dotenv', file }).leaves) {
        const [name] = leaf.path
        if (leaf.path.length === 1 && name !== undefined && leaf.line !== undefined) lines.set(name, leaf.line)
    }
    return lines
}

/**
 * Masks the values the environment had at `ref`, so a change report that
 * decrypts the old revision cannot print them either. A file that is absent
 * at `ref`, or that these identities cannot open (e.g. before a key
 * rotation), has nothing this step could print, and is skipped.
 *
 * @returns How many values were masked.
 */
export const maskValuesAt = async (root: string, ref: string, env: string, identities: readonly string[], setSecret: SetSecret): Promise<number> => {
    const file = secretsFile(env)
    const old = await showFile(root, ref, file)
    if (old === undefined) return 0
    try {
        const values = (await decryptSopsFile(old.toString('utf8'), { store: 'dotenv', identities: [...identities], file: `${ref}:${file}` })).toEnvMap()
        maskAll(values.values(), setSecret)
        return values.size
    } catch {
        return 0
    }
}
