/**
 * The YAML sops prints: go.yaml.in/yaml/v3's emitter as sops drives it
 * (indent 4, no line wrapping, block style, comments kept). A port of the
 * parts sops reaches: scalar analysis and style choice (analyze_scalar,
 * select_scalar_style), the plain/single/double/literal writers, block
 * scalar hints, `? ` keys, and the map/sequence layout. The `yaml` package
 * cannot be configured into these choices, hence a small emitter of our own.
 */
import type { Plaintexts } from './decrypt.js'
import { formatFloatYaml } from './go-values.js'
import { needsQuotes } from './yaml-resolve.js'
import type { Branches, CommentNode, MapNode, Scalar, TreeNode } from './tree.js'
import { KeyfleetError } from '../../errors.js'

const INDENT = 4
// Ends a line that must not be followed by a line feed (a block scalar that ended with U+2028/U+2029, which is a
// break to yaml.v3). NUL never reaches a literal block (it forces double quotes), so it cannot be content.
const NO_FEED = '\0'
const isBreak = (c: string): boolean => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029'
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
const writeScalar = (s: Scalar, indent: number, simpleKey = false, what = 'a value'): string => {
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
const writeComment = (text: string, indent: number): string => {
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
    return breaks ? `${out}${NO_FEED}` : out
}

class Emitter {
    readonly out: string[] = []
    constructor(readonly plain: Plaintexts) {}

    scalarOf(node: TreeNode & { kind: 'scalar' }): Scalar { return this.plain.scalars.get(node) ?? node.scalar }
    commentText(c: CommentNode): string { return this.plain.comments.get(c) ?? c.text }
    comment(c: CommentNode, indent: number): void { this.out.push(`${' '.repeat(indent)}${writeComment(this.commentText(c), indent)}`) }

    /** Appends ` #text` to the last line for an inline comment. */
    inline(c: CommentNode): void {
        // A block scalar carries its line comment on the header line (`key: |- # text`).
        const last = this.out[this.out.length - 1] as string
        const nl = last.indexOf('\n')
        const text = writeComment(this.commentText(c), 0)
        this.out[this.out.length - 1] = nl === -1 ? `${last} ${text}` : `${last.slice(0, nl)} ${text.replace(NO_FEED, '')}${last.slice(nl)}`
    }

    /** A list item labelled type:comment is a comment to sops. */
    isCommentItem(i: TreeNode | CommentNode | MapNode['items'][number]): boolean { return i.kind === 'comment' || (i.kind === 'scalar' && this.scalarOf(i).type === 'comment') }

    isEmpty(node: TreeNode): boolean { return node.kind !== 'scalar' && !node.items.some((i) => !this.isCommentItem(i)) }

    empty(node: TreeNode): string { return node.kind === 'map' ? '{}' : '[]' }

    /** A value after `prefix` (`key:` / `-` / `:`) on a line at `indent`; `child` is the indent of nested content. */
    value(prefix: string, node: TreeNode, child: number, inSeq: boolean): void {
        if (node.kind === 'scalar') {
            const s = this.scalarOf(node)
            if (s.type === 'comment') {
                // sops' Comment struct, as yaml.v3 marshals it.
                const value = `value: ${writeScalar({ type: 'str', value: s.value }, child + INDENT)}`
                // After `? key` the struct's mapping starts on the `:` line (compact form), as nested mappings do.
                if (inSeq) this.out.push(`${prefix}${' '.repeat(Math.max(child - prefix.length, 1))}${value}`)
                else this.out.push(prefix, `${' '.repeat(child)}${value}`)
                this.out.push(`${' '.repeat(child)}inline: false`)
                return
            }
            this.out.push(`${prefix} ${writeScalar(s, child)}`)
            return
        }
        if (this.isEmpty(node)) {
            this.out.push(`${prefix} ${this.empty(node)}`)
            // Comments of an otherwise empty collection follow it at the parent's indentation (as sops prints them).
            const at = prefix.length - prefix.trimStart().length
            for (const i of node.items) {
                if (i.kind === 'comment') this.comment(i, at)
                else if (i.kind === 'scalar') this.out.push(`${' '.repeat(at)}${writeComment((this.scalarOf(i) as { value: string }).value, at)}`)
            }
            return
        }
        if (inSeq) {
            // Compact form: the first line of the nested collection follows `- ` (or `:   `).
            const start = this.out.length
            if (node.kind === 'map') this.map(node, child)
            else this.seq(node, child)
            const first = this.out.findIndex((l, i) => i >= start && !l.trimStart().startsWith('#'))
            const line = this.out[first] as string
            const pad = child - prefix.length
            this.out[first] = `${prefix}${' '.repeat(Math.max(pad, 1))}${line.slice(child)}`
            return
        }
        this.out.push(prefix)
        if (node.kind === 'map') this.map(node, child)
        else this.seq(node, child)
    }

    /** A line comment stays on its line only while it is the stored text; sops' decrypted comments lose `Inline`. */
    staysInline(item: CommentNode): boolean { return item.inline === true && !this.plain.notInline.has(item) }

    /** Decrypted line comments after item `i` become head comments, written before it. */
    hoist(items: readonly (TreeNode | MapNode['items'][number])[], i: number, indent: number, done: Set<number>): void {
        for (let j = i + 1; j < items.length; j++) {
            const next = items[j] as TreeNode | CommentNode
            if (next.kind !== 'comment' || next.inline !== true) break
            if (!this.staysInline(next)) { this.comment(next, indent); done.add(j) }
        }
    }

    map(node: MapNode, indent: number): void {
        // yaml_emitter_increase_indent: inside a mapping, nested content aligns to the next multiple of the indent.
        const children = INDENT * Math.floor((indent + INDENT) / INDENT)
        const pad = ' '.repeat(indent)
        const done = new Set<number>()
        for (const [i, item] of node.items.entries()) {
            if (done.has(i)) continue
            if (item.kind === 'comment') {
                if (this.staysInline(item) && this.out.length > 0) this.inline(item)
                else this.comment(item, indent)
                continue
            }
            this.hoist(node.items, i, indent, done)
            // yaml.v3's check_simple_key: a key of at most 128 bytes (as text, before quoting) without a line break
            // is written `key:`, any other as an explicit `? key`.
            if (Buffer.byteLength(item.key, 'utf8') > 128 || [...item.key].some(isBreak)) {
                this.out.push(`${pad}? ${writeScalar({ type: 'str', value: item.key }, children, false, 'a key')}`)
                this.value(`${pad}:`, item.value, children, true)
            } else {
                this.value(`${pad}${writeScalar({ type: 'str', value: item.key }, children, true, 'a key')}:`, item.value, children, false)
            }
        }
    }

    seq(node: TreeNode & { kind: 'list' }, indent: number): void {
        const pad = ' '.repeat(indent)
        const done = new Set<number>()
        for (const [i, item] of node.items.entries()) {
            if (done.has(i)) continue
            if (item.kind === 'comment') {
                if (this.staysInline(item) && this.out.length > 0) this.inline(item)
                else this.comment(item, indent)
                continue
            }
            this.hoist(node.items, i, indent, done)
            const s = item.kind === 'scalar' ? this.scalarOf(item) : undefined
            // A list item labelled type:comment is a comment to sops: it prints as `#text`.
            if (s?.type === 'comment') { this.out.push(`${pad}${writeComment(s.value, indent)}`); continue }
            this.value(`${pad}-`, item, indent + 2, true)
        }
    }
}

/** Lines joined by line feeds, except after a block scalar that ended with U+2028/U+2029 (already a break to yaml.v3). */
const joinLines = (lines: readonly string[]): string => lines.map((l) => (l.endsWith(NO_FEED) ? l.slice(0, -1) : `${l}\n`)).join('')

/** What `sops decrypt --output-type yaml` prints for the decrypted branches. */
export const formatYamlLikeSops = (branches: Branches, plain: Plaintexts): string => branches.map((branch) => {
    const e = new Emitter(plain)
    if (!branch.items.some((i) => i.kind === 'entry')) {
        for (const item of branch.items) if (item.kind === 'comment') e.comment(item, 0)
        e.out.push('{}')
    } else {
        e.map(branch, 0)
    }
    return joinLines(e.out)
}).join('---\n')
