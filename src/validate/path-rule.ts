/**
 * The `path_regex` shape keyfleet writes for every environment (`^environments/dev/[^/]+$`), matched
 * without re2js: compiling the first rule on a cold JIT cost `ls`, `get` and `run` 10–20 ms (issue 15).
 *
 * Exact for this one shape only, in Go RE2's meaning (sops matches with `regexp.MatchString`): `^` and
 * `$` (no `(?m)`) are the ends of the text, the literal is ASCII, and `[^/]+` is one or more code points
 * other than `/` (a newline included). Any other rule goes to re2js. test/validate/path-rule.test.ts
 * compares this with re2js on seeded paths.
 */
import type { Pattern } from '../re2.js'

// The prefix: letters, digits, `_`, `-`, `/`, or `\.` for a dot.
const SHAPE = /^\^((?:[A-Za-z0-9_\-/]|\\\.)+)\[\^\/\]\+\$$/

/** A matcher for `^PREFIX[^/]+$`, or undefined for any other pattern. */
export const directoryRule = (source: string): Pattern | undefined => {
    const m = SHAPE.exec(source)
    if (!m) return undefined
    const prefix = (m[1] as string).replaceAll('\\.', '.')
    return {
        source,
        test: (text: string): boolean => text.length > prefix.length && text.startsWith(prefix) && !text.includes('/', prefix.length),
    }
}
