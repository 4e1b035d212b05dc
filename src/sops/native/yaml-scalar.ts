/**
 * go.yaml.in/yaml/v3's scalar writers as sops reaches them: scalar analysis and
 * style choice (analyze_scalar, select_scalar_style), the plain, single-quoted,
 * double-quoted and literal writers with their block hints, `!!binary` for
 * strings that are not UTF-8, and the comment writer. The layout of maps and
 * sequences is in format-yaml.ts.
 */
import { formatFloatYaml } from './go-values.js'
import { needsQuotes } from './yaml-resolve.js'
import type { Scalar } from './tree.js'
import { KeyfleetError } from '../../errors.js'

/** sops' YAML indent (yaml.v3's best_indent). */
export const INDENT = 4
/**
 * Ends a line that must not be followed by a line feed (a block scalar or comment that ended with NEL, U+2028 or
 * U+2029, a break to yaml.v3). A lone surrogate: text decoded from UTF-8 can never hold one, so it is never content.
 */
export const NO_FEED = '\uD800'
/**
 * The same for a comment: yaml.v3 writes a run of comments as one block (`#a\n#b`), so the line feed is left out
 * only after the last comment of the run.
 */
export const COMMENT_NO_FEED = '\uDBFF'
/** yaml.v3's is_break: LF, CR, NEL, U+2028, U+2029. */
export const isBreak = (c: string): boolean => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029'
const isBlankZ = (c: string | undefined): boolean => c === undefined || c === ' ' || c === '\t' || isBreak(c)
// yaml.v3 is_printable on UTF-8: LF, printable ASCII, U+00A0–U+D7FF, U+E000–U+FFFD minus the BOM; no astral characters.
const isPrintable = (c: string): boolean => {
    const x = c.codePointAt(0) as number
    return x === 0x0a || (x >= 0x20 && x <= 0x7e) || (x >= 0xa0 && x <= 0xd7ff) || (x >= 0xe000 && x <= 0xfffd && x !== 0xfeff)
}

interface Analysis { multiline: boolean; flowPlain: boolean; blockPlain: boolean; single: boolean; block: boolean }

/** yaml_emitter_analyze_scalar. */
const analyze = (value: string): Analysis => {
    if (value === '') return { multiline: false, flowPlain: false, blockPlain: true, single: true, block: false }
    const chars = [...value]
    let flowInd = false; let blockInd = false
    if (value.startsWith('---') || value.startsWith('...')) { flowInd = true; blockInd = true }
    let preceded = true
    let lineBreaks = false; let special = false; let tabs = false
    let leadingSpace = false; let leadingBreak = false; let trailingSpace = false; let trailingBreak = false
    let breakSpace = false; let spaceBreak = false; let prevSpace = false; let prevBreak = false
    chars.forEach((c, i) => {
        const followed = isBlankZ(chars[i + 1])
        const last = i === chars.length - 1
        if (i === 0) {
            if ('#,[]{}&*!|>\'"%@`'.includes(c)) { flowInd = true; blockInd = true }
            if (c === '?' || c === ':') { flowInd = true; if (followed) blockInd = true }
            if (c === '-' && followed) { flowInd = true; blockInd = true }
        } else {
            if (',?[]{}'.includes(c)) flowInd = true
            if (c === ':') { flowInd = true; if (followed) blockInd = true }
            if (c === '#' && preceded) { flowInd = true; blockInd = true }
        }
        // yaml.v3: a tab is not "special" (it still rules out plain and single-quoted styles, not literal blocks).
        if (c === '\t') tabs = true
        else if (!isPrintable(c)) special = true
        if (c === ' ') {
            if (i === 0) leadingSpace = true
            if (last) trailingSpace = true
            if (prevBreak) breakSpace = true
            prevSpace = true; prevBreak = false
        } else if (isBreak(c)) {
            lineBreaks = true
            if (i === 0) leadingBreak = true
            if (last) trailingBreak = true
            if (prevSpace) spaceBreak = true
            prevSpace = false; prevBreak = true
        } else {
            prevSpace = false; prevBreak = false
        }
        preceded = isBlankZ(c)
    })
    const a: Analysis = { multiline: lineBreaks, flowPlain: true, blockPlain: true, single: true, block: true }
    if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) { a.flowPlain = false; a.blockPlain = false }
    if (trailingSpace) a.block = false
    if (breakSpace) { a.flowPlain = false; a.blockPlain = false; a.single = false }
    if (spaceBreak || tabs || special) { a.flowPlain = false; a.blockPlain = false; a.single = false }
    if (spaceBreak || special) a.block = false
    if (lineBreaks) { a.flowPlain = false; a.blockPlain = false }
    if (flowInd) a.flowPlain = false
    if (blockInd) a.blockPlain = false
    return a
}

type Style = 'plain' | 'single' | 'double' | 'literal'

/** encode.go (node) plus select_scalar_style, for a string scalar. */
const styleOf = (s: string, simpleKey: boolean): Style => {
    const a = analyze(s)
    let style: Style = s.includes('\n') ? 'literal' : needsQuotes(s) ? 'double' : 'plain'
    if (style === 'plain') {
        if ((simpleKey && !a.flowPlain) || (!simpleKey && !a.blockPlain) || (s === '' && simpleKey)) style = 'single'
    }
    if (style === 'single' && !a.single) style = 'double'
    if (style === 'literal' && (!a.block || simpleKey)) style = 'double'
    return style
}

const ESCAPES: Record<string, string> = { '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e', '"': '"', '\\': '\\', '\x85': 'N', '\xa0': '_', '\u2028': 'L', '\u2029': 'P' }

/** yaml_emitter_write_double_quoted without line breaking (yaml.v3 disables wrapping). */
const doubleQuoted = (text: string): string => {
    let out = '"'
    // yaml.v3's is_bom looks at the start of the value, not at the current character: after a leading BOM,
    // every character is escaped.
    const all = text.startsWith('\ufeff')
    for (const ch of text) {
        const code = ch.codePointAt(0) as number
        if (!(all || ch === '"' || ch === '\\' || isBreak(ch) || code === 0xfeff || !isPrintable(ch))) { out += ch; continue }
        const named = ESCAPES[ch]
        if (named !== undefined) out += `\\${named}`
        else if (code <= 0xff) out += `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
        else if (code <= 0xffff) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`
        else out += `\\U${code.toString(16).toUpperCase().padStart(8, '0')}`
    }
    return `${out}"`
}

/**
 * yaml_emitter_write_single_quoted: `'` doubled; a break (only LS, PS or NEL reach here: a line feed selects a
 * literal block) is written as itself, and the indentation follows before the next character that is not a break.
 */
const singleQuoted = (text: string, indent: number): string => {
    let out = "'"
    let breaks = false
    for (const ch of text) {
        if (ch === ' ') { out += ch; continue }
        if (isBreak(ch)) {
            if (!breaks && ch === '\n') out += '\n'
            out += ch
            breaks = true
            continue
        }
        if (breaks) out += ' '.repeat(indent)
        breaks = false
        out += ch === "'" ? "''" : ch
    }
    return `${out}'`
}

/**
 * yaml_emitter_write_literal_scalar: header (indentation and chomping hints), then the text with the indentation
 * written before each character that follows a break. A line feed ends the line; U+2028/U+2029 are breaks too,
 * written as themselves, so the indentation comes after them. A trailing line feed is left to the caller's line join.
 */
const literal = (text: string, indent: number): string => {
    let hints = ''
    if (text.startsWith(' ') || isBreak(text[0] ?? '')) hints += String(INDENT)
    const chars = [...text]
    if (!isBreak(chars[chars.length - 1] ?? '')) hints += '-'
    else if (chars.length === 1 || isBreak(chars[chars.length - 2] ?? '')) hints += '+'
    let out = `|${hints}\n`
    let breaks = true
    for (const ch of chars) {
        if (isBreak(ch)) { out += ch; breaks = true; continue }
        if (breaks) out += ' '.repeat(indent)
        out += ch
        breaks = false
    }
    // The caller joins lines with line feeds: drop a final one, and mark a final U+2028/U+2029 (no line feed follows).
    return out.endsWith('\n') ? out.slice(0, -1) : isBreak(out[out.length - 1] ?? '') ? `${out}${NO_FEED}` : out
}

/**
 * yaml.v3's Node.Encode (which sops calls for every key and value) emits the string and parses it back. A literal
 * block whose first line starts with a tab has no indentation hint, and the parser refuses it ("found a tab
 * character where an indentation space is expected"); sops ignores that error and prints the value as `null`
 * (or fails when a comment is attached). That loses the value, so keyfleet refuses instead.
 */
const refuseLostValue = (text: string, what: string): void => {
    if (text.startsWith('\t') && text.includes('\n') && analyze(text).block) {
        throw new KeyfleetError('NATIVE_OUTPUT_UNSUPPORTED', `${what} starts with a tab and spans lines: sops prints such a value as null in YAML (the value would be lost), so keyfleet refuses; choose --output-type json or dotenv`)
    }
}

/** yaml.v3's encodeBase64 for a string that is not UTF-8 (then tagged !!binary): 70 characters a line when longer. */
const base64Lines = (bytes: Buffer): string => {
    const b64 = bytes.toString('base64')
    if (b64.length < 70) return b64
    let out = ''
    for (let i = 0; i < b64.length; i += 70) out += `${b64.slice(i, i + 70)}\n`
    return out
}

const scalarText = (s: Scalar): string | undefined => s.type === 'int' ? s.value.toString() : s.type === 'float' ? formatFloatYaml(s.value)
    : s.type === 'bool' ? String(s.value) : s.type === 'time' ? s.text : s.type === 'null' ? 'null' : undefined

/** A scalar as it is written after `key: ` or `- `; `indent` is where a block scalar's body goes. */
export const writeScalar = (s: Scalar, indent: number, simpleKey = false, what = 'a value'): string => {
    const typed = scalarText(s)
    if (typed !== undefined) return typed
    // A Go string that is not UTF-8: yaml.v3 base64-encodes it and tags it !!binary (plain, or a literal block).
    if ((s.type === 'str' || s.type === 'comment') && s.bytes) {
        const b64 = base64Lines(s.bytes)
        return `!!binary ${b64.includes('\n') ? literal(b64, indent) : b64}`
    }
    const text = s.type === 'str' || s.type === 'comment' ? s.value : ''
    refuseLostValue(text, what)
    switch (styleOf(text, simpleKey)) {
        case 'plain': return text
        case 'single': return singleQuoted(text, indent)
        case 'double': return doubleQuoted(text)
        case 'literal': return literal(text, indent)
    }
}

/**
 * yaml_emitter_write_comment for `#text` (sops joins comments as `#a\n#b`): NEL, U+2028 and U+2029 (which a
 * dotenv comment can hold) are breaks, written as themselves; the indentation and a `# ` follow before the next
 * character, and a comment that ends with one gets no line feed.
 */
export const writeComment = (text: string, indent: number): string => {
    if (![...text].some(isBreak)) return `#${text}`
    let out = '#'
    let breaks = false
    let pound = true
    for (const ch of text) {
        if (isBreak(ch)) { out += ch; breaks = true; pound = false; continue }
        if (breaks) out += ' '.repeat(indent)
        if (!pound) { if (ch !== '#') out += '# '; pound = true }
        out += ch
        breaks = false
    }
    return breaks ? `${out}${COMMENT_NO_FEED}` : out
}

