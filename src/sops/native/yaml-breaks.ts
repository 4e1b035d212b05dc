/**
 * yaml.v3's extra line breaks, for the `yaml` package. To yaml.v3 (sops' parser, a port of libyaml) NEL, U+2028
 * and U+2029 are line breaks, as in YAML 1.1; to the `yaml` package (YAML 1.2) they are content. go-yaml writes
 * a string holding a line feed and U+2028/U+2029 as a literal block in which those characters are breaks: each
 * is written as itself before the next line's indentation (`|4-`, then a line `<LS>    b`), and a block that
 * ends with one is followed on the same line by the next key. The `yaml` package cannot read such a block.
 *
 * {@link withLibyamlBreaks} finds every block scalar whose lines, split as yaml.v3 splits them, hold one of those
 * characters, reads it as yaml.v3 reads it (yaml_parser_scan_block_scalar), and puts an equivalent one-line
 * double-quoted scalar in its place (its header comment kept after it, the line count kept), so the values and
 * the MAC are sops' own. Quoted scalars keep their breaks (yaml-flow.ts folds them as yaml.v3 does); between
 * tokens (ending a comment) they become line feeds. In a plain scalar, which sops never writes with one, the two
 * parsers would read different text, so such a file is refused rather than read otherwise.
 */
import { Parser } from 'yaml'
import { nativeError } from './errors.js'

const SPECIAL = /[\u0085\u2028\u2029]/
const SPECIALS = /[\u0085\u2028\u2029]/g
/** A tab in a line's leading white space (in a block scalar's content too: the CST tells them apart). */
const LINE_TAB = /(?:^|[\n\r\u0085\u2028\u2029]) *\t/
const isSpecial = (c: string | undefined): boolean => c === '\u0085' || c === '\u2028' || c === '\u2029'
const isBreak = (c: string | undefined): boolean => c === '\n' || c === '\r' || isSpecial(c)

interface Found {
    readonly blocks: { readonly offset: number; readonly indent: number }[]
    readonly quoted: [number, number][]
    readonly plain: [number, number][]
    /** Offsets of tabs in a line's indentation before a token, in block context (yaml.v3 refuses them). */
    readonly lineTabs: number[]
}

type Tok = { type?: string; offset?: number; indent?: number; source?: string; items?: unknown[]; value?: unknown; key?: unknown; start?: unknown; end?: unknown; sep?: unknown; props?: unknown }

/** Block scalar headers (with the enclosing collection's indent, yaml.v3's parser.indent), quoted and plain scalar ranges. */
const find = (text: string): Found => {
    const found: Found = { blocks: [], quoted: [], plain: [], lineTabs: [] }
    const visit = (t: unknown, flow = false): void => {
        if (typeof t !== 'object' || t === null) return
        if (Array.isArray(t)) { t.forEach((x) => visit(x, flow)); return }
        const tok = t as Tok
        const tab = tok.type === 'space' && tok.offset !== undefined && !flow ? (tok.source ?? '').indexOf('\t') : -1
        if (tab !== -1) {
            const at = (tok.offset as number) + tab
            if (/^ *$/.test(text.slice(Math.max(text.lastIndexOf('\n', at - 1), text.lastIndexOf('\r', at - 1)) + 1, at))) found.lineTabs.push(at)
        }
        if (tok.type === 'block-scalar' && tok.offset !== undefined) found.blocks.push({ offset: tok.offset, indent: tok.indent ?? 0 })
        if ((tok.type === 'single-quoted-scalar' || tok.type === 'double-quoted-scalar') && tok.offset !== undefined) {
            found.quoted.push([tok.offset, tok.offset + (tok.source ?? '').length])
        }
        if (tok.type === 'scalar' && tok.offset !== undefined) found.plain.push([tok.offset, tok.offset + (tok.source ?? '').length])
        for (const field of [tok.start, tok.props, tok.key, tok.sep, tok.value, tok.items, tok.end]) visit(field, flow || tok.type === 'flow-collection')
    }
    for (const token of new Parser().parse(text)) visit(token)
    found.blocks.sort((a, b) => a.offset - b.offset)
    return found
}

/** A block scalar as yaml.v3 reads it: its value, where its header's comment is, and where it ends. */
interface Block { readonly value: string; readonly comment: string; readonly end: number }

/**
 * yaml_parser_scan_block_scalar (go.yaml.in/yaml/v3 scannerc.go) from the `|`/`>` at `at`; `parentIndent` is
 * parser.indent. Columns count UTF-16 units, which equals yaml.v3's character count where it matters: only spaces
 * precede a line's content when columns are compared.
 */
const scanBlock = (text: string, at: number, parentIndent: number, fail: (message: string) => never): Block => {
    let i = at
    const literal = text[i] === '|'
    i++
    let chomping = 0
    let increment = 0
    const chomp = (): void => { if (text[i] === '+' || text[i] === '-') { chomping = text[i] === '+' ? 1 : -1; i++ } }
    const digit = (): void => {
        if (text[i] === undefined || !/[0-9]/.test(text[i] as string)) return
        if (text[i] === '0') fail('a block scalar with indentation indicator 0')
        increment = Number(text[i]); i++
    }
    if (text[i] === '+' || text[i] === '-') { chomp(); digit() } else { digit(); chomp() }
    const tail = i
    while (text[i] === ' ' || text[i] === '\t') i++
    if (text[i] === '#') while (i < text.length && !isBreak(text[i])) i++
    const comment = text.slice(tail, i)
    if (i < text.length && !isBreak(text[i])) fail('a block scalar header followed by text')
    let column = 0
    let lineStart = i
    // read_line: CRLF, CR, LF and NEL are a line feed in the value; U+2028 and U+2029 stay themselves.
    const readLine = (): string => {
        const c = text[i]
        if (!isBreak(c)) return ''
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1
        column = 0
        lineStart = i
        return c === '\u2028' || c === '\u2029' ? c : '\n'
    }
    readLine()
    let indent = increment > 0 ? (parentIndent >= 0 ? parentIndent + increment : increment) : 0
    /** yaml_parser_scan_block_scalar_breaks: indentation spaces and empty lines; fixes the indent if not yet known. */
    const breaks = (): string => {
        let out = ''
        let max = 0
        for (;;) {
            while ((indent === 0 || column < indent) && text[i] === ' ') { i++; column++ }
            if (column > max) max = column
            if ((indent === 0 || column < indent) && text[i] === '\t') fail('a tab character where a block scalar\'s indentation space is expected')
            if (!isBreak(text[i])) break
            out += readLine()
        }
        if (indent === 0) indent = Math.max(max, parentIndent + 1, 1)
        return out
    }
    let value = ''
    let leadingBreak = ''
    let trailingBreaks = breaks()
    let leadingBlank = false
    while (column === indent && i < text.length) {
        const trailingBlank = text[i] === ' ' || text[i] === '\t'
        if (!literal && !leadingBlank && !trailingBlank && leadingBreak === '\n') {
            if (trailingBreaks === '') value += ' '
        } else {
            value += leadingBreak
        }
        value += trailingBreaks
        leadingBlank = trailingBlank
        const start = i
        while (i < text.length && !isBreak(text[i])) i++
        value += text.slice(start, i)
        column += i - start
        leadingBreak = readLine()
        trailingBreaks = breaks()
    }
    if (chomping !== -1) value += leadingBreak
    if (chomping === 1) value += trailingBreaks
    // The block ends at the start of the line that ended it (the `yaml` package reads that line's indentation anew).
    return { value, comment, end: i >= text.length ? text.length : lineStart }
}

/** The end of the quoted scalar that starts at `at`, as yaml.v3 reads it (just after its closing quote), or -1. */
const closingQuote = (text: string, at: number): number => {
    const q = text[at]
    for (let i = at + 1; i < text.length; i++) {
        const c = text[i]
        if (q === "'" && c === "'") { if (text[i + 1] !== "'") return i + 1; i++ }
        else if (q === '"' && c === '\\') i++
        else if (q === '"' && c === '"') return i + 1
    }
    return -1
}

/** Rounds allowed for quoted scalars the `yaml` package cuts short; each costs a parse, so a file cannot make it quadratic. */
const MAX_ROUNDS = 64

/**
 * {@link find} on the text as yaml.v3 splits it: every NEL/U+2028/U+2029 a line feed, except inside quoted scalars,
 * where it is a space. yaml.v3 does not check the indentation of a quoted scalar's continuation lines; the `yaml`
 * package ends the scalar at an under-indented one, as after the U+2029 in sops' `'a<PS>'` (closing quote at
 * column 0). Such a scalar is found where the `yaml` package cut it, its breaks become spaces, and it is parsed again.
 */
const tokens = (text: string, file: string | undefined): Found => {
    let n = text.replace(SPECIALS, '\n')
    for (let round = 0; ; round++) {
        const found = find(n)
        const cut = found.quoted.find(([a, z]) => { const end = closingQuote(text, a); return end !== z && end !== -1 && SPECIAL.test(text.slice(a, end)) })
        if (cut === undefined) return found
        if (round === MAX_ROUNDS) throw nativeError('NATIVE_MALFORMED', file, `more than ${MAX_ROUNDS} quoted scalars ending in a NEL/U+2028/U+2029 line break; use --engine sops`)
        const end = closingQuote(text, cut[0])
        n = n.slice(0, cut[0]) + text.slice(cut[0], end).replace(SPECIALS, ' ') + n.slice(end)
    }
}

/** Membership in token ranges (sorted, disjoint) for positions asked in increasing order: one sweep. */
const cursor = (ranges: readonly (readonly [number, number])[]): ((p: number) => boolean) => {
    const sorted = [...ranges].sort((x, y) => x[0] - y[0])
    let k = 0
    return (p) => {
        while (k < sorted.length && (sorted[k] as readonly [number, number])[1] <= p) k++
        return k < sorted.length && (sorted[k] as readonly [number, number])[0] <= p
    }
}

const hex = (c: number, width: number): string => c.toString(16).toUpperCase().padStart(width, '0')

/** A double-quoted scalar on one line that the `yaml` package reads back as exactly `value`. */
export const doubleQuote = (value: string): string => {
    let out = '"'
    for (const ch of value) {
        const c = ch.codePointAt(0) as number
        if (ch === '"' || ch === '\\') out += `\\${ch}`
        else if (ch === '\n') out += '\\n'
        else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x2028 && c <= 0x2029) || c === 0xfeff || (c >= 0xd800 && c <= 0xdfff) || c >= 0xfffe && c <= 0xffff) out += c <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`
        else out += ch
    }
    return `${out}"`
}

/**
 * The YAML text with every block scalar that holds NEL, U+2028 or U+2029 as a line break replaced by the
 * double-quoted scalar yaml.v3 reads there, and those characters in comments by line feeds; any other text is
 * unchanged (a file without those characters is returned as it is). One parse, linear in the text.
 * @throws KeyfleetError NATIVE_MALFORMED where yaml.v3 refuses a block (a tab in its indentation, indicator 0),
 *   or for such a character in a plain scalar (yaml.v3 folds it; the `yaml` package would keep it).
 */
export const withLibyamlBreaks = (text: string, file: string | undefined): string => {
    const specials = SPECIAL.test(text)
    if (!specials && !LINE_TAB.test(text)) return text
    const lineOf = (pos: number): number => text.slice(0, pos).split('\n').length
    // Every NEL/U+2028/U+2029 is a line break to yaml.v3, so with line feeds in their place (the same length, so
    // the same offsets) the `yaml` package finds the tokens yaml.v3 finds: the blocks, quoted and plain scalars.
    const found = tokens(text, file)
    const edits: { from: number; to: number; text: string }[] = []
    for (const b of found.blocks) {
        if (b.offset < (edits[edits.length - 1]?.to ?? 0)) continue
        const block = scanBlock(text, b.offset, b.indent, (message) => { throw nativeError('NATIVE_MALFORMED', file, `invalid YAML (${message})`, lineOf(b.offset)) })
        const region = text.slice(b.offset, block.end)
        if (!SPECIAL.test(region)) continue
        // Keep the number of line feeds, so that the lines after it keep their numbers; a block that ends on a
        // U+2028/U+2029 gets a line feed of its own.
        const feeds = Math.max((region.match(/\r\n|\r|\n/g) ?? []).length, isBreak(region[region.length - 1]) ? 1 : 0)
        const comment = block.comment.startsWith('#') ? ` ${block.comment}` : block.comment
        edits.push({ from: b.offset, to: block.end, text: `${doubleQuote(block.value)}${comment}${'\n'.repeat(feeds)}` })
    }
    // yaml.v3 skips tabs before a token only in flow context or after one on the line ("found character that
    // cannot start any token"); the `yaml` package skips them. sops can write such a file and not read it back.
    const tab = found.lineTabs.find((p) => !edits.some((e) => p >= e.from && p < e.to))
    if (tab !== undefined) throw nativeError('NATIVE_MALFORMED', file, 'invalid YAML (a tab in the indentation before a token; sops\' YAML parser refuses it)', lineOf(tab))
    if (!specials) return text
    const [inBlock, inQuoted, inPlain] = [cursor(edits.map((e) => [e.from, e.to])), cursor(found.quoted), cursor(found.plain)]
    for (const m of text.matchAll(SPECIALS)) {
        const p = m.index
        if (inBlock(p) || inQuoted(p)) continue
        if (inPlain(p)) throw nativeError('NATIVE_MALFORMED', file, 'NEL, U+2028 or U+2029 in a plain scalar (a line break to sops\' YAML parser, text to ours); quote the value', lineOf(p))
        // Between tokens it ends the line, as a line feed does: a comment (sops writes `#a<LS>    # b` for a comment
        // that holds one), or the line after a block scalar.
        edits.push({ from: p, to: p + 1, text: '\n' })
    }
    edits.sort((x, y) => x.from - y.from)
    let out = ''
    let at = 0
    for (const e of edits) { out += text.slice(at, e.from) + e.text; at = e.to }
    return out + text.slice(at)
}
