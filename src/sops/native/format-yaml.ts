/**
 * The YAML sops prints: go.yaml.in/yaml/v3's emitter as sops drives it
 * (indent 4, no line wrapping, block style, comments kept). This module lays
 * out maps, sequences, `? ` keys and comments; yaml-scalar.ts writes each
 * scalar. The `yaml` package cannot be configured into these choices, hence a
 * small emitter of our own.
 */
import type { Plaintexts } from './decrypt.js'
import type { Branches, CommentNode, MapNode, Scalar, TreeNode } from './tree.js'
import { COMMENT_NO_FEED, INDENT, isBreak, NO_FEED, writeComment, writeScalar } from './yaml-scalar.js'

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
        this.out[this.out.length - 1] = nl === -1 ? `${last} ${text}` : `${last.slice(0, nl)} ${text.replace(COMMENT_NO_FEED, '')}${last.slice(nl)}`
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
            // Comments of an otherwise empty collection follow it at the parent's indentation (as sops prints them);
            // an empty list that is itself a list item has them before its `- []`.
            const before = node.kind === 'list' && prefix.trimStart() === '-'
            if (!before) this.out.push(`${prefix} ${this.empty(node)}`)
            const at = prefix.length - prefix.trimStart().length
            for (const i of node.items) {
                if (i.kind === 'comment') this.comment(i, at)
                else if (i.kind === 'scalar') this.out.push(`${' '.repeat(at)}${writeComment((this.scalarOf(i) as { value: string }).value, at)}`)
            }
            if (before) this.out.push(`${prefix} ${this.empty(node)}`)
            return
        }
        if (inSeq) {
            // Compact form: the first line of the nested collection follows `- ` (or `:   `).
            const start = this.out.length
            if (node.kind === 'map') this.map(node, child)
            else this.seq(node, child)
            let first = this.out.findIndex((l, i) => i >= start && !l.trimStart().startsWith('#'))
            if (node.kind === 'list' && prefix.trimStart() === ':') {
                // After `? key`, the list's first line follows `:   ` even when it is a comment.
                first = start
            } else if (node.kind === 'list') {
                // Comments before a nested list's first item go before its `- ` line, at the outer list's indent.
                const at = prefix.length - prefix.trimStart().length
                for (let i = start; i < first; i++) this.out[i] = `${' '.repeat(at)}${(this.out[i] as string).trimStart()}`
            }
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
const joinLines = (lines: readonly string[]): string => lines.map((l, i) => {
    if (l.endsWith(NO_FEED)) return l.slice(0, -1)
    if (l.endsWith(COMMENT_NO_FEED)) return (lines[i + 1] ?? '').trimStart().startsWith('#') ? `${l.slice(0, -1)}\n` : l.slice(0, -1)
    return `${l}\n`
}).join('')

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
