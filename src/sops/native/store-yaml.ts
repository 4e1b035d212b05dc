/**
 * The YAML store. Parses with the `yaml` package in the failsafe schema (every
 * scalar stays text) and types plain scalars with yaml.v3's rules, so values
 * hash as sops hashes them. Comments become tree comments in document order
 * (approximating yaml.v3's head/line/foot attachment; they never enter the MAC).
 */
import { isAlias, Lexer, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar as YamlScalar, type Document, type Node } from 'yaml'
import { nativeError } from './errors.js'
import { formatFloatF } from './go-values.js'
import { withLibyamlBreaks } from './yaml-breaks.js'
import { hasUnicodeBreak, libyamlFlowScalar } from './yaml-flow.js'
import { resolvePlain, UNSUPPORTED_UINT } from './yaml-resolve.js'
import { scalarNode, type CommentNode, type MapEntry, type MapNode, type Scalar, type TreeNode } from './tree.js'

/** Parsed YAML documents: one branch per document, and the first document's `sops` block. */
export interface YamlDocuments { readonly branches: readonly MapNode[]; readonly metadataBlock: unknown }

const STR_TAG = 'tag:yaml.org,2002:str'
/** What yaml.v3's reader refuses anywhere in the input (readerc.go: "control characters are not allowed"). */
const NOT_ALLOWED = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u

/**
 * The `yaml` package reports both `#` and `# ` as the comment " "; yaml.v3 (and so sops) keeps them apart.
 * The raw forms of those comments, in document order, from the lexer; each " " takes the next one.
 */
let blankComments: string[] = []

const comments = (text: string | null | undefined, line: number | undefined, inline = false): CommentNode[] =>
    text ? text.split('\n').filter((l) => l !== '').map((raw, i) => {
        const l = raw === ' ' ? (blankComments.shift() ?? raw) : raw
        return inline && i === 0 ? { kind: 'comment', text: l, line, inline: true } : { kind: 'comment', text: l, line }
    }) : []

class Converter {
    constructor(readonly doc: Document, readonly lines: LineCounter, readonly file: string | undefined, readonly source: string) {}

    lineOf(node: Node | null | undefined): number | undefined {
        return node?.range ? this.lines.linePos(node.range[0]).line : undefined
    }

    /** Whether a `#` comment follows `node` on its own last line (a line comment, which sops keeps in place). */
    inlineAfter(node: Node | null | undefined): boolean {
        const end = node?.range?.[1]
        if (end === undefined) return false
        if (isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED')) {
            // A block scalar's line comment is on its header line (`key: |- # text`): yaml.v3's LineComment.
            const start = node.range?.[0] ?? end
            const nl = this.source.indexOf('\n', start)
            return /^[|>][-+0-9]*[ \t]+#/.test(this.source.slice(start, nl === -1 ? undefined : nl))
        }
        const nl = this.source.indexOf('\n', end)
        return /^[ \t]+#/.test(this.source.slice(end, nl === -1 ? undefined : nl))
    }

    fail(message: string, node: Node | null | undefined): never {
        throw nativeError('NATIVE_MALFORMED', this.file, message, this.lineOf(node))
    }

    deref(node: unknown, depth: number): unknown {
        if (!isAlias(node)) return node
        if (depth > 64) this.fail('alias chain too deep', node)
        return this.deref(node.resolve(this.doc), depth + 1)
    }

    scalar(node: YamlScalar): Scalar {
        let text = String(node.value ?? '')
        const quoted = node.type !== undefined && node.type !== 'PLAIN'
        if ((node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE') && node.range) {
            // U+2028/U+2029/NEL are line breaks to yaml.v3 (sops' parser): fold them as it does, or the MAC differs.
            const source = this.source.slice(node.range[0], node.range[1])
            const folded = hasUnicodeBreak(source) ? libyamlFlowScalar(source) : undefined
            if (folded === null) this.fail('invalid YAML (a document indicator after a NEL/U+2028/U+2029 line break in a quoted scalar)', node)
            text = folded ?? text
        }
        if (quoted || node.tag === STR_TAG || node.tag === 'tag:yaml.org,2002:binary') return { type: 'str', value: text }
        const resolved = resolvePlain(node.source ?? text)
        if (resolved === UNSUPPORTED_UINT) this.fail('an integer above the int64 range; sops cannot hash it', node)
        return resolved
    }

    key(node: unknown, path: readonly string[]): string {
        const key = this.deref(node, 0)
        if (!isScalar(key)) this.fail(`a non-scalar key under ${path.join('.') || '(root)'}; sops supports string keys only`, key as Node)
        const s = this.scalar(key)
        if (s.type !== 'str') this.fail(`a non-string key under ${path.join('.') || '(root)'}; sops supports string keys only (quote it)`, key)
        return s.value
    }

    value(raw: unknown, path: readonly string[], depth: number): TreeNode {
        if (depth > 256) this.fail('nesting deeper than 256 levels', raw as Node)
        const node = this.deref(raw, 0)
        if (node === null || node === undefined) return scalarNode({ type: 'null' }, '', undefined)
        if (isMap(node)) return this.map(node, path, depth)
        if (isSeq(node)) {
            const items: (TreeNode | CommentNode)[] = [...comments((node as Node).commentBefore, this.lineOf(node))]
            for (const item of (node as unknown as { items: unknown[] }).items) {
                const n = item as Node | null
                items.push(...comments(n?.commentBefore, this.lineOf(n)))
                items.push(this.value(item, path, depth + 1))
                if (n && isScalar(n)) items.push(...comments(n.comment, this.lineOf(n), this.inlineAfter(n)))
            }
            items.push(...comments((node as Node).comment, undefined))
            return { kind: 'list', items }
        }
        if (isScalar(node)) return scalarNode(this.scalar(node), String(node.source ?? node.value ?? ''), this.lineOf(node))
        return this.fail('an unsupported YAML node', node as Node)
    }

    map(node: { items: { key: unknown; value: unknown }[] } & Node, path: readonly string[], depth: number): MapNode {
        const items: (MapEntry | CommentNode)[] = [...comments(node.commentBefore, this.lineOf(node))]
        for (const pair of node.items) {
            const keyNode = pair.key as Node | null
            items.push(...comments(keyNode?.commentBefore, this.lineOf(keyNode)))
            const key = this.key(pair.key, path)
            const valueNode = this.deref(pair.value, 0) as Node | null
            const isLeaf = valueNode === null || isScalar(valueNode)
            if (isLeaf) items.push(...comments(valueNode?.commentBefore, this.lineOf(valueNode)))
            items.push({ kind: 'entry', key, value: this.value(pair.value, [...path, key], depth + 1), line: this.lineOf(keyNode) })
            if (isLeaf) items.push(...comments(valueNode?.comment ?? keyNode?.comment, this.lineOf(valueNode ?? keyNode), this.inlineAfter(valueNode?.comment ? valueNode : keyNode)))
        }
        items.push(...comments(node.comment, undefined))
        return { kind: 'map', items }
    }
}

/**
 * sops decodes the metadata with yaml.v3 types and mapstructure's weak typing: an unquoted `version: 1.0`
 * is the float 1, which becomes the string "1" (and then fails sops' semver check). Mirror that for `version`.
 */
const weakVersion = (block: unknown, doc: Document): unknown => {
    if (typeof block !== 'object' || block === null) return block
    const node = doc.getIn(['sops', 'version'], true)
    if (!isScalar(node) || (node.type !== undefined && node.type !== 'PLAIN') || node.tag !== undefined) return block
    const typed = resolvePlain(String(node.source ?? node.value ?? ''))
    const text = typed === UNSUPPORTED_UINT ? String(node.source) : typed.type === 'int' ? typed.value.toString() : typed.type === 'float' ? formatFloatF(typed.value)
        : typed.type === 'bool' ? (typed.value ? '1' : '0') : typed.type === 'null' ? '' : typed.type === 'time' ? '\0time' : typed.value
    return { ...block, version: text }
}

/**
 * The document as plain data, for the metadata block. yaml throws a plain Error (an alias whose
 * anchor is missing or comes later, too many aliases); go-yaml refuses such a file too, so it is
 * NATIVE_MALFORMED here, with yaml's message left out: it quotes source text.
 */
const metadataJs = (doc: Document, file: string | undefined, line: number | undefined): unknown => {
    try {
        return doc.toJS({ maxAliasCount: 100 })
    } catch (cause) {
        throw nativeError('NATIVE_MALFORMED', file, `invalid YAML (${cause instanceof ReferenceError ? 'an alias without its anchor' : 'unreadable aliases'})`, line)
    }
}

/**
 * Parses YAML text (one or more documents).
 * @throws KeyfleetError NATIVE_MALFORMED with a line for syntax errors, duplicate keys, top-level sequences or scalars.
 */
export const parseYaml = (source: string, file: string | undefined): YamlDocuments => {
    // Block scalars with NEL/U+2028/U+2029 line breaks become the double-quoted scalars yaml.v3 reads there.
    const bad = NOT_ALLOWED.exec(source)
    if (bad) throw nativeError('NATIVE_MALFORMED', file, 'invalid YAML (control characters are not allowed: yaml.v3 refuses the file)', source.slice(0, bad.index).split('\n').length)
    const text = withLibyamlBreaks(source, file)
    const lines = new LineCounter()
    blankComments = [...new Lexer().lex(text)].filter((t) => t === '#' || t === '# ').map((t) => t.slice(1))
    const parsed = parseAllDocuments(text, { schema: 'failsafe', lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true })
    const docs = Array.isArray(parsed) ? parsed : []
    if (!Array.isArray(parsed)) throw nativeError('NATIVE_MALFORMED', file, 'invalid YAML')
    const branches: MapNode[] = []
    let metadataBlock: unknown
    docs.forEach((doc, index) => {
        const error = doc.errors[0]
        if (error) {
            // Only the error code: yaml's messages quote source text, which may be a value.
            throw nativeError('NATIVE_MALFORMED', file, `invalid YAML (${error.code})`, lines.linePos(error.pos[0]).line)
        }
        const converter = new Converter(doc, lines, file, text)
        const contents = doc.contents as Node | null
        const head = comments(doc.commentBefore, 1)
        if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
            branches.push({ kind: 'map', items: [...head, ...comments(doc.comment, undefined)] })
            return
        }
        if (!isMap(contents)) converter.fail('the top level of a sops YAML document must be a mapping', contents)
        const root = converter.map(contents as unknown as { items: { key: unknown; value: unknown }[] } & Node, [], 0)
        const items = [...head, ...root.items, ...comments(doc.comment, undefined)].filter((item) => {
            if (item.kind === 'entry' && item.key === 'sops') {
                // Metadata fields are Go strings: take the text as written (failsafe schema), not the typed tree.
                if (index === 0) metadataBlock = weakVersion((metadataJs(doc, file, item.line) as Record<string, unknown>).sops, doc)
                return false
            }
            return true
        })
        branches.push({ kind: 'map', items })
    })
    return { branches, metadataBlock }
}
