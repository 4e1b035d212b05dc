/**
 * Regular expressions that come from files (`.sops.yaml` `path_regex`, the
 * selection regexes in sops metadata, catalog `format` rules) run here, in
 * re2js: a linear-time port of RE2 with Go's `regexp` syntax and semantics.
 *
 * Why not JavaScript's RegExp: it backtracks (`^(A+)+$` on a 40-character
 * name never returns, and the same code runs in the PR check, in deploy and
 * in the agents' loader), and its syntax and meaning differ from Go's, which
 * is what sops uses: `(?i)prod` is a syntax error in JavaScript, and `\s`
 * matches a non-breaking space in JavaScript but not in Go.
 *
 * Matching is Go's `regexp.MatchString`: an unanchored search, `^`/`$` at
 * the ends of the text unless the pattern sets `(?m)`, `.` one code point.
 */
import { RE2JS } from 're2js'
import { KeyfleetError } from './errors.js'
import { subsetMatcher, type SubsetMatcher } from './re2-subset.js'

/** A compiled file-supplied pattern. `test` is an unanchored search, like Go's `MatchString`. */
export interface Pattern {
    /** The pattern text exactly as written in the file. */
    readonly source: string
    /** Whether the pattern matches anywhere in `text`. Linear in the length of `text`. */
    test(text: string): boolean
}

/** One match: UTF-16 offsets into the text, and each capture group's text and span (undefined when it did not take part). */
export interface PatternMatch {
    readonly start: number
    readonly end: number
    /** Groups 1…n (index 0 is group 1). */
    readonly groups: readonly (string | undefined)[]
    /** `[start, end)` of groups 1…n. */
    readonly spans: readonly (readonly [number, number] | undefined)[]
}

// Bounded so that a hostile stream of distinct patterns cannot grow memory without limit.
const CACHE_LIMIT = 512
const cache = new Map<string, RE2JS>()

const compileRaw = (source: string): RE2JS => {
    const hit = cache.get(source)
    if (hit !== undefined) return hit
    const compiled = RE2JS.compile(source)
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
    cache.set(source, compiled)
    return compiled
}

// Yes/no matchers of the recognised subset (src/re2-subset.ts), null for a pattern outside it; bounded like `cache`.
const subsets = new Map<string, SubsetMatcher | null>()
const subsetOf = (source: string): SubsetMatcher | undefined => {
    let hit = subsets.get(source)
    if (hit === undefined) {
        hit = subsetMatcher(source) ?? null
        if (subsets.size >= CACHE_LIMIT) subsets.delete(subsets.keys().next().value as string)
        subsets.set(source, hit)
    }
    return hit ?? undefined
}

/**
 * Why `source` is not a valid Go RE2 pattern (re2js's parser message, which
 * quotes only the pattern), or undefined when it compiles.
 */
export const patternError = (source: string): string | undefined => {
    try {
        compileRaw(source)
        return undefined
    } catch (cause) {
        return cause instanceof Error ? cause.message : String(cause)
    }
}

/**
 * Compiles a Go RE2 pattern (cached).
 * @param what - what the pattern is, for the message (e.g. `path_regex of creation rule 2`).
 * @throws KeyfleetError `REGEX_INVALID` naming `what` and the parser's reason.
 */
export const compilePattern = (source: string, what: string): Pattern => {
    // In the subset the pattern is valid Go RE2 (src/catalog/pattern-syntax.ts): nothing to report now.
    if (subsetOf(source) !== undefined) return lazyPattern(source)
    let re: RE2JS
    try {
        re = compileRaw(source)
    } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause)
        throw new KeyfleetError('REGEX_INVALID', `${what} is not a valid RE2 regular expression (${reason}); use Go regexp syntax (no look-around or back-references), as sops does`, { cause: reason })
    }
    return { source, test: (text: string): boolean => re.test(text) }
}

/**
 * A pattern compiled on first use, for keyfleet's own constants (the built-in
 * catalog), so that importing a module costs no compile time; test/re2.test.ts
 * proves each of them compiles.
 */
export const lazyPattern = (source: string): Pattern => ({
    source,
    // re2-subset.ts answers where it can (a recognised pattern, printable-ASCII text: a key's shape); re2js
    // everything else. Start-up budget (issue 15): `check` tests every value against its format, and re2js's
    // load and compiles were half of what it spent.
    test: (text: string): boolean => subsetOf(source)?.(text) ?? compileRaw(source).test(text),
})

/** Compiles like {@link compilePattern}, returning undefined instead of throwing. */
export const tryCompilePattern = (source: string): Pattern | undefined => {
    try {
        return compilePattern(source, 'pattern')
    } catch {
        return undefined
    }
}

/**
 * The leftmost match of `source` in `text` at or after UTF-16 offset `from`
 * (`^` still means the start of `text`), or undefined.
 * @throws KeyfleetError `REGEX_INVALID`
 */
export const findFrom = (source: string, text: string, from: number, what = 'pattern'): PatternMatch | undefined => {
    compilePattern(source, what)
    const matcher = compileRaw(source).matcher(text)
    if (from > text.length || !matcher.find(from)) return undefined
    const groups: (string | undefined)[] = []
    const spans: ([number, number] | undefined)[] = []
    for (let g = 1; g <= matcher.groupCount(); g++) {
        const group = matcher.group(g)
        groups.push(group ?? undefined)
        spans.push(group === null ? undefined : [matcher.start(g), matcher.end(g)])
    }
    return { start: matcher.start(), end: matcher.end(), groups, spans }
}

/**
 * Every non-overlapping match of `source` in `text`, left to right (after an
 * empty match the search moves on by one code unit).
 * @throws KeyfleetError `REGEX_INVALID`
 */
export const findAll = (source: string, text: string, what = 'pattern'): PatternMatch[] => {
    const out: PatternMatch[] = []
    for (let from = 0; ;) {
        const m = findFrom(source, text, from, what)
        if (m === undefined) return out
        out.push(m)
        from = m.end > m.start ? m.end : m.end + 1
    }
}
