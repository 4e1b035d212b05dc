/**
 * A cheap, conservative check that a catalog `format` (or a `.sops.yaml` `path_regex`) is valid RE2, so
 * that loading the catalog does not compile every rule (issue 15: six re2js compiles on a cold JIT cost about as much as `node -e 0`, and
 * `ls`, `registry`, `get` never use a format). It recognises a small subset of Go RE2 syntax — the shape
 * of provider key rules: anchors, literals, escapes, `.`, simple classes, groups, alternation and bounded
 * quantifiers — and says "valid" only for patterns in it. Anything else returns false and is compiled at
 * once, as before, so an invalid rule is reported with re2js's own message.
 *
 * Being wrong here could only defer an error to the rule's first use (where compilePattern throws
 * REGEX_INVALID); test/catalog/pattern-syntax.test.ts checks on seeded random patterns that re2js compiles
 * everything this accepts.
 */

const LITERAL = /^[A-Za-z0-9_\-/:@=,!%&~'"<>;# ]$/
// Go accepts a backslash before any ASCII punctuation as that character; these are the ones rules use.
const ESCAPED = /^[.+*?()|[\]{}^$\\/\-_:@#&~]$/
const PERL_CLASS = /^[dwsDWS]$/
const CLASS_CHAR = /^[A-Za-z0-9_/.:@=, ]$/
// Range ends: word characters only (`[.-/]` is valid, but not simple).
const RANGE_END = /^[A-Za-z0-9_]$/
// RE2 refuses counts above 1000; staying well below also keeps nested repeats small.
const MAX_COUNT = 100
const MAX_LENGTH = 256

/** What the recogniser learnt about a pattern in its subset. */
export interface SimplePatternShape {
    /** Whether a `|` sits outside every group (`a|b`), so that not every match begins with the pattern's leading literal. */
    readonly topLevelAlternation: boolean
}

/**
 * Whether `source` is certainly a valid Go RE2 pattern. False means "compile it to find out", not "invalid".
 */
export const isSimpleValidPattern = (source: string): boolean => simplePatternShape(source) !== undefined

/**
 * The shape of `source` when it is in the recogniser's subset (certainly valid Go RE2), else undefined.
 * Inside the subset every escape is two characters and every class is parsed whole, so a `|` at depth 0 is
 * exactly a top-level alternation (`\Q…\E`, POSIX classes and flag groups, where that would not hold, are outside it).
 */
export const simplePatternShape = (source: string): SimplePatternShape | undefined => {
    if (source.length === 0 || source.length > MAX_LENGTH) return undefined
    let i = 0
    let depth = 0
    let topLevelAlternation = false
    // Whether the last item can take a quantifier (a literal, escape, class, `.` or closed group), and whether it already has one.
    let quantifiable = false
    // A counted repeat of a group (`(ab){50}`) could nest into a program RE2 refuses as too large: not simple.
    let afterGroup = false
    const braceCount = (): boolean => {
        // `{n}`, `{n,}`, `{n,m}` with n <= m <= MAX_COUNT; anything else leaves the fast path.
        const m = /^\{(\d{1,3})(,(\d{1,3})?)?\}/.exec(source.slice(i))
        if (!m) return false
        const lo = Number(m[1])
        const hi = m[3] === undefined ? lo : Number(m[3])
        if (lo > MAX_COUNT || hi > MAX_COUNT || lo > hi) return false
        i += m[0].length
        return true
    }
    while (i < source.length) {
        const c = source[i] as string
        const groupBefore = afterGroup
        afterGroup = false
        if (c === '^' || c === '$') { i++; quantifiable = false; continue }
        if (c === '|') { if (depth === 0) topLevelAlternation = true; i++; quantifiable = false; continue }
        if (c === '(') {
            // Plain groups only: `(?…` flags and names leave the fast path.
            if (source[i + 1] === '?') return undefined
            depth++; i++; quantifiable = false; continue
        }
        if (c === ')') {
            if (depth === 0) return undefined
            depth--; i++; quantifiable = true; afterGroup = true; continue
        }
        if (c === '?' || c === '*' || c === '+' || c === '{') {
            if (!quantifiable) return undefined
            if (c === '{') { if (groupBefore || !braceCount()) return undefined } else i++
            // One quantifier per item, no non-greedy or possessive suffix (`a+?` is valid RE2, just not simple).
            quantifiable = false
            continue
        }
        if (c === '[') {
            const end = classEnd(source, i)
            if (end === -1) return undefined
            i = end; quantifiable = true; continue
        }
        if (c === '\\') {
            const next = source[i + 1] ?? ''
            if (!ESCAPED.test(next) && !PERL_CLASS.test(next)) return undefined
            i += 2; quantifiable = true; continue
        }
        if (c === '.' || LITERAL.test(c)) { i++; quantifiable = true; continue }
        return undefined
    }
    return depth === 0 ? { topLevelAlternation } : undefined
}

/** The index after a simple class starting at `start` (`[`), or -1: word characters, `/.:@=, `, ordered word ranges, `\d\w\s`, a leading `^`, `-` first or last. */
const classEnd = (source: string, start: number): number => {
    let i = start + 1
    if (source[i] === '^') i++
    let items = 0
    if (source[i] === '-') { i++; items++ }
    for (;;) {
        const c = source[i]
        if (c === undefined) return -1
        if (c === ']') return items > 0 ? i + 1 : -1
        if (c === '-') {
            // Only as the last character: `[a-]`.
            if (source[i + 1] !== ']') return -1
            i++; items++; continue
        }
        if (c === '\\') {
            if (!PERL_CLASS.test(source[i + 1] ?? '')) return -1
            i += 2; items++; continue
        }
        if (!CLASS_CHAR.test(c)) return -1
        if (source[i + 1] === '-' && source[i + 2] !== ']' && source[i + 2] !== undefined) {
            const hi = source[i + 2] as string
            if (!RANGE_END.test(c) || !RANGE_END.test(hi) || hi < c) return -1
            i += 3; items++; continue
        }
        i++; items++
    }
}
