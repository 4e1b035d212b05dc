/**
 * Replacing an environment's data key (`sops rotate`): every value is re-encrypted, no value changes.
 * The key-less change report cannot tell that from a changed value, so it lists every name as
 * `reencrypted` (values not compared); the keyed report shows metadata only.
 */
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { KeyfleetError } from '../errors.js'
import { changeViaTempCopy } from '../repo/atomic.js'
import { environmentPaths } from '../repo/layout.js'
import { sopsRotate, type SopsOptions } from '../sops/index.js'

/**
 * Gives `env`'s env.secrets a new data key, on a temp copy renamed over the file on success.
 * @returns the repository-relative path rotated.
 * @throws KeyfleetError `ENV_NO_SECRETS` when the file does not exist, sops errors
 *   (`SOPS_COULD_NOT_RETRIEVE_KEY` when the identity cannot open it); the file is unchanged after any error.
 */
export const rotateDataKey = async (root: string, env: string, sops: SopsOptions): Promise<string> => {
    const file = environmentPaths(env).secrets
    const path = join(root, file)
    if (!existsSync(path)) throw new KeyfleetError('ENV_NO_SECRETS', `${file} does not exist; nothing to rotate (add a key with \`keyfleet set ${env} NAME\`)`)
    await changeViaTempCopy(path, (temp) => sopsRotate(relative(root, temp), sops))
    return file
}
