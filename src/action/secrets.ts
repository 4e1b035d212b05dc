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
import { decryptSopsFile } from '../sops/native/index.js'
import { showFile } from '../validate/git.js'
import { maskAll, type SetSecret } from './mask.js'

/** Repository-relative path of an environment's secrets file. */
export const secretsFile = (env: string): string => `environments/${env}/env.secrets`

/**
 * Decrypts `environments/<env>/env.secrets` under `root`, masks every value
 * and returns NAME -> value.
 *
 * @throws KeyfleetError `ACTION_NO_SECRETS_FILE` when the file is missing;
 *   the native decryptor's errors (MAC mismatch, no matching identity,
 *   malformed file) unchanged, each naming the file.
 */
export const decryptAndMask = async (root: string, env: string, identities: readonly string[], setSecret: SetSecret): Promise<Map<string, string>> => {
    const file = secretsFile(env)
    let text: string
    try {
        text = await readFile(join(root, file), 'utf8')
    } catch {
        throw new KeyfleetError('ACTION_NO_SECRETS_FILE', `${file} does not exist: create it with \`keyfleet set ${env} <NAME>\` or \`keyfleet import\`.`, { file })
    }
    const decrypted = await decryptSopsFile(text, { store: 'dotenv', identities: [...identities], file })
    const values = decrypted.toEnvMap()
    maskAll(values.values(), setSecret)
    return values
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
