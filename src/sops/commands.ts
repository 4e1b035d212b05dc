/**
 * sops operations on an environment's dotenv file. Every call passes
 * `--input-type dotenv` (and `--output-type dotenv` where sops has the flag;
 * updatekeys does not), because `env.secrets` has no extension sops
 * recognises: it would otherwise treat the file as a binary blob.
 */
import { KeyfleetError } from '../errors.js'
import { runSops, type SopsOptions } from './run.js'

const DOTENV = ['--input-type', 'dotenv', '--output-type', 'dotenv'] as const

/**
 * Parses sops's dotenv output into an ordered name → value map. `\n` is kept
 * as written: keyfleet refuses values with real newlines, so a backslash-n in
 * a value is literal, exactly as native decryption returns it.
 */
export const parseDotenvOutput = (text: string): Map<string, string> => {
    const values = new Map<string, string>()
    for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('#')) continue
        const eq = line.indexOf('=')
        if (eq <= 0) continue
        values.set(line.slice(0, eq), line.slice(eq + 1))
    }
    return values
}

/**
 * Decrypts a dotenv SOPS file with the sops binary.
 * @param file - path relative to `options.cwd` (the repository root).
 * @returns name → value in file order. The caller must not print it.
 */
export const sopsDecrypt = async (file: string, options: SopsOptions): Promise<Map<string, string>> =>
    parseDotenvOutput(await runSops({ operation: 'decrypt', file, args: ['decrypt', ...DOTENV, file] }, options))

/** Index expression sops expects for a top-level key, e.g. `["OPENAI_API_KEY"]`. */
const index = (name: string): string => JSON.stringify([name])

/**
 * Sets one value in place (`sops set --value-stdin`): the value travels on
 * stdin as a JSON string, never in argv. Other values keep their ciphertext.
 */
export const sopsSet = async (file: string, name: string, value: string, options: SopsOptions): Promise<void> => {
    await runSops({ operation: 'set', file, args: ['set', ...DOTENV, '--value-stdin', file, index(name)], input: JSON.stringify(value) }, options)
}

/** Removes one name in place. @throws KeyfleetError `SOPS_KEY_NOT_FOUND` when absent. */
export const sopsUnset = async (file: string, name: string, options: SopsOptions): Promise<void> => {
    await runSops({ operation: 'unset', file, args: ['unset', ...DOTENV, file, index(name)] }, options)
}

/**
 * Encrypts a new dotenv file from entries given on stdin, using the creation
 * rule that matches `file`; returns the encrypted text (the caller writes it
 * atomically). No plaintext touches the disk.
 */
export const sopsEncryptNew = async (file: string, entries: ReadonlyMap<string, string>, options: SopsOptions): Promise<string> => {
    if (entries.size === 0) throw new KeyfleetError('SOPS_EMPTY', `refusing to create ${file} with no keys: sops cannot encrypt an empty dotenv file`)
    const plaintext = [...entries].map(([name, value]) => `${name}=${value.replace(/\n/g, '\\n')}\n`).join('')
    return runSops({ operation: 'encrypt', file, args: ['encrypt', ...DOTENV, '--filename-override', file], input: plaintext }, options)
}

/** Re-syncs the file's recipients with `.sops.yaml` (no new data key). updatekeys takes no --output-type. */
export const sopsUpdateKeys = async (file: string, options: SopsOptions): Promise<void> => {
    await runSops({ operation: 'updatekeys', file, args: ['updatekeys', '--yes', '--input-type', 'dotenv', file] }, options)
}

/** Replaces the data key and re-encrypts every value in place (`sops rotate -i`). */
export const sopsRotate = async (file: string, options: SopsOptions): Promise<void> => {
    await runSops({ operation: 'rotate', file, args: ['rotate', ...DOTENV, '--in-place', file] }, options)
}

/** Opens the file in `editor` through sops (decrypts to a sops-managed temp file, re-encrypts on save). */
export const sopsEdit = async (file: string, editor: string, options: SopsOptions): Promise<void> => {
    await runSops({ operation: 'edit', file, args: ['edit', ...DOTENV, file], interactive: true, editor }, options)
}
