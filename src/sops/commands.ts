/**
 * sops operations on an environment's dotenv file. Every call passes
 * `--input-type dotenv` (and `--output-type dotenv` where sops has the flag;
 * updatekeys does not), because `env.secrets` has no extension sops
 * recognises: it would otherwise treat the file as a binary blob.
 *
 * Every operation that writes checks its own result with plain `sops decrypt`
 * (see ./verify.ts): it throws `SOPS_WRITE_MISMATCH` when the file sops wrote
 * does not decrypt to the intended values. Callers run them on a temp copy
 * (repo/atomic.ts), so a throw leaves the real file as it was.
 */
import { KeyfleetError } from '../errors.js'
import { runSops, type SopsOptions } from './run.js'
import { alteredByEditor, assertCarriable, assertSameValues, editedIntoNewlines } from './verify.js'

const DOTENV = ['--input-type', 'dotenv', '--output-type', 'dotenv'] as const

/**
 * Parses sops's dotenv output into an ordered name → value map, each value as
 * printed (a `\n` may stand for a newline or for itself: the dotenv output
 * cannot tell them apart; {@link sopsDecrypt} reads the exact values).
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
 * Decrypts a dotenv SOPS file with the sops binary, exactly: through
 * `--output-type json`, whose strings carry every value as stored (the dotenv
 * output cannot tell a newline from a literal backslash-n).
 * @param file - path relative to `options.cwd` (the repository root).
 * @returns name → value in file order. The caller must not print it.
 */
export const sopsDecrypt = async (file: string, options: SopsOptions): Promise<Map<string, string>> => {
    const out = await runSops({ operation: 'decrypt', file, args: ['decrypt', '--input-type', 'dotenv', '--output-type', 'json', file] }, options)
    const values = new Map<string, string>()
    // sops prints a flat object of strings for a dotenv file; anything else is not a file keyfleet wrote.
    for (const [name, value] of Object.entries(JSON.parse(out) as Record<string, unknown>)) values.set(name, String(value))
    return values
}

/** Index expression sops expects for a top-level key, e.g. `["OPENAI_API_KEY"]`. */
const index = (name: string): string => JSON.stringify([name])

/**
 * Sets one value in place (`sops set --value-stdin`): the value travels on
 * stdin as a JSON string, never in argv. Other values keep their ciphertext.
 * Unchecked: callers go through {@link sopsWriteValues}, which checks the whole file once.
 * @throws KeyfleetError `VALUE_NOT_CARRIABLE` for a value sops's dotenv store would change.
 */
export const sopsSet = async (file: string, name: string, value: string, options: SopsOptions): Promise<void> => {
    assertCarriable(name, value)
    await runSops({ operation: 'set', file, args: ['set', ...DOTENV, '--value-stdin', file, index(name)], input: JSON.stringify(value) }, options)
}

/**
 * Sets `values` in `file` (in place, existing file) and checks with sops that
 * the file now decrypts to what it held before plus `values`.
 * @param onEach - progress callback after each key.
 * @throws KeyfleetError `VALUE_NOT_CARRIABLE` before anything is written, `SOPS_WRITE_MISMATCH`, sops errors.
 */
export const sopsWriteValues = async (
    file: string, values: ReadonlyMap<string, string>, options: SopsOptions, onEach?: (name: string, done: number) => void,
): Promise<void> => {
    for (const [name, value] of values) assertCarriable(name, value)
    const expected = await sopsDecrypt(file, options)
    let done = 0
    for (const [name, value] of values) {
        await sopsSet(file, name, value, options)
        expected.set(name, value)
        onEach?.(name, ++done)
    }
    assertSameValues(file, expected, await sopsDecrypt(file, options))
}

/**
 * Removes one name in place, checked: every other value must stay as it was.
 * @throws KeyfleetError `SOPS_KEY_NOT_FOUND` when absent, `SOPS_WRITE_MISMATCH`.
 */
export const sopsUnset = async (file: string, name: string, options: SopsOptions): Promise<void> => {
    const expected = await sopsDecrypt(file, options)
    await runSops({ operation: 'unset', file, args: ['unset', ...DOTENV, file, index(name)] }, options)
    expected.delete(name)
    assertSameValues(file, expected, await sopsDecrypt(file, options))
}

/**
 * Encrypts a new dotenv file from entries given on stdin, using the creation
 * rule that matches `file`; returns the encrypted text (the caller writes it
 * with `writeFileAtomicChecked` and {@link sopsCheckFile}). No plaintext touches
 * the disk. The entries travel as a JSON object: sops's dotenv input would turn
 * every backslash-n into a newline; its JSON input carries strings exactly.
 * @throws KeyfleetError `SOPS_EMPTY`, `VALUE_NOT_CARRIABLE`.
 */
export const sopsEncryptNew = async (file: string, entries: ReadonlyMap<string, string>, options: SopsOptions): Promise<string> => {
    if (entries.size === 0) throw new KeyfleetError('SOPS_EMPTY', `refusing to create ${file} with no keys: sops cannot encrypt an empty dotenv file`)
    for (const [name, value] of entries) assertCarriable(name, value)
    const plaintext = JSON.stringify(Object.fromEntries(entries))
    return runSops({ operation: 'encrypt', file, args: ['encrypt', '--input-type', 'json', '--output-type', 'dotenv', '--filename-override', file], input: plaintext }, options)
}

/**
 * Checks with sops that `file` (a freshly written temp file) decrypts to exactly `expected`.
 * @throws KeyfleetError `SOPS_WRITE_MISMATCH`, sops errors.
 */
export const sopsCheckFile = async (file: string, expected: ReadonlyMap<string, string>, options: SopsOptions): Promise<void> => {
    assertSameValues(file, expected, await sopsDecrypt(file, options))
}

/** Runs a re-keying operation and checks every value is unchanged. */
const keepingValues = async (file: string, options: SopsOptions, operation: () => Promise<unknown>): Promise<void> => {
    const before = await sopsDecrypt(file, options)
    await operation()
    assertSameValues(file, before, await sopsDecrypt(file, options))
}

/** Re-syncs the file's recipients with `.sops.yaml` (no new data key), checked. updatekeys takes no --output-type. */
export const sopsUpdateKeys = async (file: string, options: SopsOptions): Promise<void> => {
    await keepingValues(file, options, () => runSops({ operation: 'updatekeys', file, args: ['updatekeys', '--yes', '--input-type', 'dotenv', file] }, options))
}

/** Replaces the data key and re-encrypts every value in place (`sops rotate -i`), checked. */
export const sopsRotate = async (file: string, options: SopsOptions): Promise<void> => {
    await keepingValues(file, options, () => runSops({ operation: 'rotate', file, args: ['rotate', ...DOTENV, '--in-place', file] }, options))
}

/** What a `sops edit` session left, besides the person's own changes (names only). */
export interface EditOutcome {
    /** Untouched lines whose stored literal backslash-n sops's editor turned into a newline; put back exactly. */
    readonly restored: readonly string[]
    /** Edited lines whose old value held a literal backslash-n and whose new value holds newlines (`\n` in the editor is a newline). */
    readonly newlines: readonly string[]
}

/**
 * Opens the file in `editor` through sops (decrypts to a sops-managed temp
 * file, re-encrypts on save). sops's editor text shows a stored literal
 * backslash-n as is and reads it back as a newline, so every line the person
 * did not change but whose value changed is set back to its stored value
 * (`sops set`, exact), and the whole file is checked afterwards.
 * @throws KeyfleetError `SOPS_NOT_MODIFIED`, `SOPS_WRITE_MISMATCH`.
 */
export const sopsEdit = async (file: string, editor: string, options: SopsOptions): Promise<EditOutcome> => {
    const before = await sopsDecrypt(file, options)
    await runSops({ operation: 'edit', file, args: ['edit', ...DOTENV, file], interactive: true, editor }, options)
    const after = await sopsDecrypt(file, options)
    const restored = alteredByEditor(before, after)
    for (const name of restored) {
        const value = before.get(name) as string
        await runSops({ operation: 'set', file, args: ['set', ...DOTENV, '--value-stdin', file, index(name)], input: JSON.stringify(value) }, options)
        after.set(name, value)
    }
    if (restored.length > 0) assertSameValues(file, after, await sopsDecrypt(file, options))
    return { restored, newlines: editedIntoNewlines(before, after) }
}
