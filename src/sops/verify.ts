/**
 * What goes in comes out: which values sops's dotenv store carries, and the
 * comparison every write makes between what it meant to store and what plain
 * `sops decrypt` returns. Messages name keys, never values.
 *
 * The store (getsops/sops stores/dotenv/store.go, 3.13.2) writes a value's
 * newlines as the two characters `\n` and, reading dotenv text, turns every
 * `\n` back into a newline, with no escape for the backslash. Values inside an
 * encrypted file are exact, but every plaintext form — `sops decrypt`'s dotenv
 * output, `sops edit`'s temp file, `sops encrypt` of a .env — reads a literal
 * backslash-n as a newline: after any `sops edit`, `C:\new` would be `C:` and
 * a line `ew`. No encoding survives that text form unchanged, so such values
 * are refused. A real newline (PEM keys, JSON) is carried faithfully.
 */
import { KeyfleetError } from '../errors.js'

// A UTF-16 surrogate without its pair: no UTF-8 encoding exists (Go's JSON decoder substitutes U+FFFD).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Why sops's dotenv store would not give `value` back unchanged, or undefined.
 * Never includes the value.
 */
export const carriageProblem = (value: string): string | undefined => {
    if (LONE_SURROGATE.test(value)) return 'is not valid Unicode text (a lone surrogate); sops would store U+FFFD instead'
    if (value.includes('\\n')) {
        return 'holds a backslash followed by "n"; sops\'s dotenv format writes a newline as \\n and reads every \\n back as a newline '
            + '(sops edit, sops decrypt, sops encrypt), so the value would come back changed. Store it with a real newline, or '
            + 'escape the backslash the way your application expects (e.g. \\\\n), or use another separator'
    }
    return undefined
}

/** @throws KeyfleetError `VALUE_NOT_CARRIABLE` naming the key and why. */
export const assertCarriable = (name: string, value: string): void => {
    const problem = carriageProblem(value)
    if (problem) throw new KeyfleetError('VALUE_NOT_CARRIABLE', `the value for ${name} ${problem}; nothing was changed`)
}

const mismatch = (file: string, names: string[]): KeyfleetError => new KeyfleetError(
    'SOPS_WRITE_MISMATCH',
    `sops decrypt of the written file does not give back ${names.join(', ')} as intended; nothing was changed (the previous file is kept). Check \`sops --version\` (keyfleet pins 3.13.2) and report it`,
    { file },
)

/**
 * Compares intended and decrypted values by name (order is not compared: sops keeps an updated key in its place).
 * @throws KeyfleetError `SOPS_WRITE_MISMATCH` naming every key that differs, is missing or is extra.
 */
export const assertSameValues = (file: string, expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): void => {
    const names = new Set([...expected.keys(), ...actual.keys()])
    const wrong = [...names].filter((n) => expected.get(n) !== actual.get(n))
    if (wrong.length > 0) throw mismatch(file, wrong)
}

/** The dotenv line sops shows in its editor for a value. */
const shown = (value: string): string => value.replaceAll('\n', '\\n')

/**
 * After `sops edit`: every key whose line the person left as it was (same text
 * in the editor) must keep its exact value; changed, added and removed lines are theirs.
 * @throws KeyfleetError `SOPS_WRITE_MISMATCH`.
 */
export const assertUnchangedLinesKept = (file: string, before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): void => {
    const wrong = [...before].filter(([n, v]) => after.has(n) && shown(after.get(n) as string) === shown(v) && after.get(n) !== v).map(([n]) => n)
    if (wrong.length > 0) throw mismatch(file, wrong)
}
