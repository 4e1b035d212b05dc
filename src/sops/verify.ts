/**
 * What goes in comes out: which values sops's dotenv store carries, and the
 * comparison every write makes between what it meant to store and what plain
 * `sops decrypt` returns. Messages name keys, never values.
 *
 * The store (getsops/sops stores/dotenv/store.go, 3.13.2) writes a value's
 * newlines as the two characters `\n` and, reading dotenv text, turns every
 * `\n` back into a newline, with no escape for the backslash. Values inside the
 * encrypted file are exact (`sops set` with a JSON value, `sops encrypt` of
 * JSON), and so is `sops decrypt --output-type json`. The dotenv text
 * (`sops decrypt`, `sops edit`) is exact for a value without newlines (shown
 * as is: `C:\new\logs`, one-line service-account JSON) and for a value
 * without a literal backslash-n (PEM keys, pretty-printed JSON without `\n`);
 * a value holding both cannot be shown in it at all, so it is refused. One
 * caveat remains, documented in docs/authoring.md: plain `sops edit` re-reads
 * its text, so it turns a stored literal backslash-n into a newline on any
 * save; `keyfleet edit` checks for exactly that and puts the stored value back.
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
    if (value.includes('\n') && value.includes('\\n')) {
        return 'spans several lines and also holds a backslash followed by "n"; sops\'s dotenv format writes a newline as \\n, '
            + 'so sops decrypt could not show this value and would read it back changed. If it is JSON, store it on one line '
            + '(e.g. `jq -c . file.json | keyfleet set …`); otherwise store it without one of the two'
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
 * After `sops edit`: the keys whose line the person left as it was (same text
 * in the editor) but whose value changed. The only cause is sops's own: its
 * editor text shows a stored literal backslash-n as is and reads every `\n`
 * back as a newline. Changed, added and removed lines are the person's.
 */
export const alteredByEditor = (before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] =>
    [...before].filter(([n, v]) => after.has(n) && shown(after.get(n) as string) === shown(v) && after.get(n) !== v).map(([n]) => n)

/**
 * Keys the person edited whose old value held a literal backslash-n and whose new value holds a
 * newline: in sops's editor `\n` means a newline, so they may have meant the old characters.
 */
export const editedIntoNewlines = (before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] =>
    [...before].filter(([n, v]) => {
        const now = after.get(n)
        return now !== undefined && shown(now) !== shown(v) && v.includes('\\n') && now.includes('\n')
    }).map(([n]) => n)
