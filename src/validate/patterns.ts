/**
 * Detectors for plaintext provider keys in arbitrary text.
 *
 * Two kinds:
 * - prefix detectors: the catalog's format rules with their anchors removed,
 *   for every rule that starts with a distinctive literal prefix
 *   (`sk-ant-`, `AIza`, `fw_`, ...), plus well-known prefixes that hold even
 *   when the catalog is edited;
 * - assignment detectors: `NAME=value` / `NAME: value` where NAME is a
 *   catalog name, alias or pool member and the value passes that name's
 *   format rule. This is the only way to find keys without a prefix
 *   (DeepInfra's are 32 letters and digits, like any MD5 in hex): scanning
 *   for the bare shape would flag every checksum in the repository.
 */
import type { CatalogIndex } from '../catalog/index.js'
import { isPlaceholder } from '../catalog/index.js'
import { simplePatternShape } from '../catalog/pattern-syntax.js'
import { findFrom } from '../re2.js'

/**
 * A detector: an RE2 pattern (from the catalog or {@link WELL_KNOWN}) that
 * must not be glued to other key characters on either side. Catalog rules are
 * PR-controlled, so they run in the linear-time engine (src/re2.ts), never in RegExp.
 */
export interface Detector {
    /** Service the match belongs to, e.g. `claude`. */
    readonly service: string
    /** The unanchored RE2 pattern the key itself matches. */
    readonly source: string
    /** `source` wrapped with its boundaries; group 1 is the key. */
    readonly wrapped: string
    /** Text every match contains (a cheap pre-check before running the engine), or '' when none is known. */
    readonly required: string
}

/** Characters that continue a key: a match must not be glued to them. */
const KEY_CHAR = 'A-Za-z0-9_\\-'
// RE2 has no look-around: the boundaries are consumed, and the search resumes right after the key (see findKeys).
const wrap = (source: string): string => `(?:^|[^${KEY_CHAR}])(${source})(?:[^${KEY_CHAR}]|$)`

/** Prefixes scanned whatever the catalog says; ordered most specific first. */
export const WELL_KNOWN: readonly { service: string; source: string }[] = [
    // Plain groups, not `(?:…)`: the pre-check reads only the recogniser's subset (requiredText); group 1 stays the key.
    { service: 'claude', source: 'sk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}' },
    { service: 'openai', source: 'sk-(proj|svcacct|admin)-[A-Za-z0-9_-]{20,}' },
    { service: 'gemini', source: 'AIza[0-9A-Za-z_-]{35}' },
    { service: 'fireworks', source: 'fw_[A-Za-z0-9]{20,}' },
]

/** Literal prefix of a pattern: characters that are not regex syntax, before the first metacharacter. */
const literalPrefix = (source: string): string => /^(?:[A-Za-z0-9_-]|\\-)*/.exec(source)?.[0].replace(/\\/g, '') ?? ''

/**
 * Literal text every match of `source` contains ('' when unsure): its literal prefix, minus a last character a
 * quantifier applies to. Only a pattern the recogniser reads whole (src/catalog/pattern-syntax.ts) has one:
 * outside that subset a flag group can carry a quantifier back to the prefix (`sk-\-(?i)*` matches `sk-`).
 * An alternation inside a group after the prefix (`sk-(proj-|admin-)?…`, the catalog's own openai rule)
 * keeps it; one at the top level (`a|b`) gives ''. Too long a text would hide keys: test/validate/patterns.test.ts
 * holds this to re2js on random patterns.
 */
export const requiredText = (source: string): string => {
    if (simplePatternShape(source)?.topLevelAlternation !== false) return ''
    const raw = /^(?:[A-Za-z0-9_-]|\\-)*/.exec(source)?.[0] ?? ''
    const prefix = raw.replace(/\\/g, '')
    // `abc?`, `abc*`, `abc{0,2}` may match without the `c`.
    const next = source.charAt(raw.length)
    return next !== '' && '?*{+'.includes(next) ? prefix.slice(0, -1) : prefix
}

/** Removes `^`/`$` anchors at the ends of a format rule; undefined when it has no literal prefix of 3+ chars. */
export const unanchor = (format: { readonly source: string }): string | undefined => {
    let source = format.source
    if (source.startsWith('^')) source = source.slice(1)
    if (source.endsWith('$') && !source.endsWith('\\$')) source = source.slice(0, -1)
    return literalPrefix(source).length >= 3 ? source : undefined
}

/** Builds the prefix detectors for a catalog: catalog rules first, then the well-known ones. */
export const prefixDetectors = (index: CatalogIndex): Detector[] => {
    const out: Detector[] = []
    const seen = new Set<string>()
    const add = (service: string, source: string): void => {
        if (seen.has(source)) return
        seen.add(source)
        out.push({ service, source, wrapped: wrap(source), required: requiredText(source) })
    }
    for (const spec of index.catalog.secrets) {
        const source = spec.format ? unanchor(spec.format) : undefined
        if (source) add(spec.service, source)
    }
    for (const { service, source } of WELL_KNOWN) add(service, source)
    // Longest literal prefix first, so `sk-ant-…` is attributed to claude rather than openai's `sk-…`.
    return out.sort((a, b) => literalPrefix(b.source).length - literalPrefix(a.source).length)
}

/** Every non-overlapping key `detector` finds in `line`, left to right. */
const findKeys = (line: string, detector: Detector): { start: number; end: number; value: string }[] => {
    const found: { start: number; end: number; value: string }[] = []
    if (!line.includes(detector.required)) return found
    let from = 0
    for (;;) {
        const m = findFrom(detector.wrapped, line, from, `the format rule of ${detector.service}`)
        const span = m?.spans[0]
        if (m === undefined || span === undefined) return found
        // The trailing boundary character was consumed; it may begin the next match, so resume right after the key.
        const [start, end] = span
        found.push({ start, end, value: line.slice(start, end) })
        from = end > from ? end : from + 1
    }
}

/** `NAME = 'value'`, `NAME: value`, `"NAME": "value"`, `export NAME=value`; group 1 name, group 2 value. */
const ASSIGNMENT = /(?<![A-Za-z0-9_])["']?([A-Z][A-Z0-9_]*)["']?\s*[:=]\s*["']?([^\s"',;`]+)/g

const ASCENDING = '0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'

/**
 * Whether a match is an obvious test fake rather than a key: an ascending
 * run of six (`abcdef`, `123456`), one character six times in a row, or a
 * chunk of five or more repeated back to back (`leakedleaked`, `OLDoldOLDold`).
 * A random key of 20+ characters has each property with probability below
 * 1e-4 (hex) and far below for base62, so real leaks are still caught;
 * repository tests and docs full of fakes are not flagged.
 */
export const looksFake = (value: string): boolean => {
    for (let i = 0; i + 6 <= value.length; i++) if (ASCENDING.includes(value.slice(i, i + 6))) return true
    // The back-reference search is quadratic: real keys are short, so only short matches get it.
    return /(.)\1{5}/.test(value) || (value.length <= 256 && /(.{5,})\1/i.test(value))
}

/** A raw match in one line: where it is and which service it belongs to. */
export interface RawMatch {
    readonly service: string
    readonly start: number
    readonly end: number
    /** The matched text: a secret. Callers turn it into a hint and drop it. */
    readonly value: string
}

/**
 * Every plaintext key in `line`, non-overlapping, most specific detector
 * first. Placeholders (`sk-...`, `<your-key>`) and obvious fakes ({@link looksFake}) never match.
 */
export const matchLine = (line: string, detectors: readonly Detector[], index: CatalogIndex): RawMatch[] => {
    const found: RawMatch[] = []
    const overlaps = (start: number, end: number): boolean => found.some((m) => start < m.end && end > m.start)
    for (const detector of detectors) {
        for (const m of findKeys(line, detector)) {
            if (!overlaps(m.start, m.end) && !isPlaceholder(m.value) && !looksFake(m.value)) found.push({ service: detector.service, ...m })
        }
    }
    for (const m of line.matchAll(ASSIGNMENT)) {
        const name = m[1] as string
        const value = m[2] as string
        const spec = index.resolve(name)?.spec
        if (!spec?.format) continue
        const start = m.index + m[0].length - value.length
        const end = start + value.length
        if (spec.format.test(value) && !isPlaceholder(value) && !looksFake(value) && !overlaps(start, end)) found.push({ service: spec.service, start, end, value })
    }
    return found.sort((a, b) => a.start - b.start)
}
