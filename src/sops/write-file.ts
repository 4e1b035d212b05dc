/**
 * The one write path for an environment's values (set, import, fold): an
 * existing file is changed on a temp copy with `sops set` per key, a new file
 * is encrypted to a temp file; either way plain `sops decrypt` of the result
 * must give the intended values before it is renamed over the real file.
 */
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { changeViaTempCopy, writeFileAtomicChecked } from '../repo/atomic.js'
import { sopsCheckFile, sopsEncryptNew, sopsWriteValues } from './commands.js'
import type { SopsOptions } from './run.js'

/**
 * Stores `values` in `file` (created when missing, through its creation rule).
 * @param root - the repository root (`options.cwd`).
 * @param file - path relative to `root`, e.g. `environments/dev/env.secrets`.
 * @param onEach - progress after each key set in an existing file.
 * @throws KeyfleetError `VALUE_NOT_CARRIABLE`, `SOPS_WRITE_MISMATCH`, `SOPS_EMPTY` and sops errors; the file is unchanged then.
 */
export const writeSecretValues = async (
    root: string, file: string, values: ReadonlyMap<string, string>, options: SopsOptions, onEach?: (name: string, done: number) => void,
): Promise<void> => {
    const path = join(root, file)
    if (existsSync(path)) {
        await changeViaTempCopy(path, (temp) => sopsWriteValues(relative(root, temp), values, options, onEach))
        return
    }
    const text = await sopsEncryptNew(file, values, options)
    await writeFileAtomicChecked(path, text, 0o644, (temp) => sopsCheckFile(relative(root, temp), values, options))
}
