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

/** A detector with a global, unanchored regex. */
export interface Detector {
    /** Service the match belongs to, e.g. `claude`. */
    readonly service: string
    readonly regex: RegExp
}

/** Characters that continue a key: a match must not be glued to them. */
const KEY_CHAR = 'A-Za-z0-9_\\-'
const before = `(?<![${KEY_CHAR}])`
const after = `(?![${KEY_CHAR}])`

/** Prefixes scanned whatever the catalog says; ordered most specific first. */
export const WELL_KNOWN: readonly { service: string; source: string }[] = [
    { service: 'claude', source: 'sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}' },
    { service: 'openai', source: 'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}' },
    { service: 'gemini', source: 'AIza[0-9A-Za-z_-]{35}' },
    { service: 'fireworks', source: 'fw_[A-Za-z0-9]{20,}' },
]

/** Removes `^`/`$` anchors at the ends of a format rule; undefined when it has no literal prefix of 3+ chars. */
export const unanchor = (format: RegExp): string | undefined => {
    let source = format.source
    if (source.startsWith('^')) source = source.slice(1)
    if (source.endsWith('$') && !source.endsWith('\\$')) source = source.slice(0, -1)
    // A literal prefix: characters that are not regex syntax, before the first metacharacter.
    const prefix = /^(?:[A-Za-z0-9_-]|\\-)*/.exec(source)?.[0].replace(/\\/g, '') ?? ''
    return prefix.length >= 3 ? source : undefined
}

/** Builds the prefix detectors for a catalog: catalog rules first, then the well-known ones. */
export const prefixDetectors = (index: CatalogIndex): Detector[] => {
    const out: Detector[] = []
    const seen = new Set<string>()
    const add = (service: string, source: string): void => {
        if (seen.has(source)) return
        seen.add(source)
        out.push({ service, regex: new RegExp(`${before}(?:${source})${after}`, 'g') })
    }
    for (const spec of index.catalog.secrets) {
        const source = spec.format ? unanchor(spec.format) : undefined
        if (source) add(spec.service, source)
    }
    for (const { service, source } of WELL_KNOWN) add(service, source)
    // Longest literal prefix first, so `sk-ant-…` is attributed to claude rather than openai's `sk-…`.
    return out.sort((a, b) => literalLength(b.regex.source) - literalLength(a.regex.source))
}

const literalLength = (source: string): number =>
    (/^(?:\(\?<!\[[^\]]*\]\))?\(\?:((?:[A-Za-z0-9_-]|\\-)*)/.exec(source)?.[1] ?? '').length

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
        detector.regex.lastIndex = 0
        for (const m of line.matchAll(detector.regex)) {
            const start = m.index
            const end = start + m[0].length
            if (!overlaps(start, end) && !isPlaceholder(m[0]) && !looksFake(m[0])) found.push({ service: detector.service, start, end, value: m[0] })
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
