/**
 * libyaml's (and so yaml.v3's) reading of a quoted flow scalar
 * (yaml_parser_scan_flow_scalar). It differs from the `yaml` package in one
 * place that matters to sops: U+2028, U+2029 and NEL are line breaks to
 * libyaml, so go-yaml writes `'a<LS>    b'` for `"a\u2028b"` and reads it back
 * as `"a\u2028b"`; the `yaml` package would keep the indentation. Used only for
 * scalars whose source holds one of those characters.
 */

const BREAKS = new Set(['\r', '\n', '\u0085', '\u2028', '\u2029'])
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t'
const isBreak = (c: string | undefined): boolean => c !== undefined && BREAKS.has(c)

/** Whether `source` needs {@link libyamlFlowScalar} rather than the `yaml` package's value. */
export const hasUnicodeBreak = (source: string): boolean => /[\u0085\u2028\u2029]/.test(source)

const SIMPLE: Record<string, string> = { '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029' }
const HEX: Record<string, number> = { x: 2, u: 4, U: 8 }

/**
 * The value of a single- or double-quoted scalar, given its source including the quotes.
 * @returns undefined when the source is not one well-formed quoted scalar (callers keep the `yaml` package's value);
 *   null when yaml.v3 refuses it: `---` or `...` right after a line break ("found unexpected document indicator").
 */
export const libyamlFlowScalar = (source: string): string | null | undefined => {
    const quote = source[0]
    if ((quote !== "'" && quote !== '"') || source.length < 2 || source[source.length - 1] !== quote) return undefined
    const chars = [...source.slice(1, -1)]
    let i = 0
    let out = ''
    // read_line: CRLF, CR, LF and NEL become LF; LS and PS stay themselves.
    const readLine = (): string => {
        const c = chars[i] as string
        if (c === '\r' && chars[i + 1] === '\n') { i += 2; return '\n' }
        i++
        return c === '\r' || c === '\n' || c === '\u0085' ? '\n' : c
    }
    while (i < chars.length) {
        // Column 0 after a break: a line feed there is checked by the `yaml` package too, U+2028/U+2029/NEL are not.
        const marker = chars.slice(i, i + 3).join('')
        if (isBreak(chars[i - 1]) && (marker === '---' || marker === '...') && (i + 3 >= chars.length || isBlank(chars[i + 3]) || isBreak(chars[i + 3]))) return null
        let leadingBlanks = false
        while (i < chars.length && !isBlank(chars[i]) && !isBreak(chars[i])) {
            const c = chars[i] as string
            if (quote === "'" && c === "'") {
                if (chars[i + 1] !== "'") return undefined
                out += "'"; i += 2
            } else if (quote === '"' && c === '\\' && isBreak(chars[i + 1])) {
                i++; readLine(); leadingBlanks = true
                break
            } else if (quote === '"' && c === '\\') {
                const e = chars[i + 1] ?? ''
                const simple = SIMPLE[e]
                if (simple !== undefined) { out += simple; i += 2; continue }
                const width = HEX[e]
                const hex = width === undefined ? '' : chars.slice(i + 2, i + 2 + width).join('')
                if (width === undefined || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) return undefined
                const code = Number.parseInt(hex, 16)
                if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return undefined
                out += String.fromCodePoint(code); i += 2 + width
            } else if (quote === '"' && c === '"') {
                return undefined
            } else {
                out += c; i++
            }
        }
        let whitespaces = ''
        let leadingBreak = ''
        let trailingBreaks = ''
        while (i < chars.length && (isBlank(chars[i]) || isBreak(chars[i]))) {
            if (isBlank(chars[i])) {
                if (!leadingBlanks) whitespaces += chars[i] as string
                i++
            } else if (!leadingBlanks) {
                whitespaces = ''
                leadingBreak = readLine()
                leadingBlanks = true
            } else {
                trailingBreaks += readLine()
            }
        }
        if (leadingBlanks) {
            // A line feed folds into a space (or into the following breaks); LS and PS are kept.
            if (leadingBreak === '\n' || leadingBreak === '') out += trailingBreaks === '' ? (leadingBreak === '' ? '' : ' ') : trailingBreaks
            else out += leadingBreak + trailingBreaks
        } else {
            out += whitespaces
        }
    }
    return out
}
