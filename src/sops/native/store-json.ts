/**
 * The JSON (and binary-envelope) store: a small order-preserving JSON reader.
 * `JSON.parse` is not used for objects because it reorders integer-like keys
 * and collapses duplicates, and sops' MAC depends on document order. Numbers
 * follow sops: an integer in int64 range is an int, anything else a float.
 */
import { nativeError } from './errors.js'
import { parseGoInt } from './go-values.js'
import { scalarNode, type MapEntry, type MapNode, type TreeNode, type ListNode } from './tree.js'

/** A JSON document split into data and metadata. */
export interface JsonDocument { readonly branch: MapNode; readonly metadataBlock: unknown }

class Reader {
    pos = 0
    line = 1
    constructor(readonly text: string, readonly file: string | undefined) {}

    fail(what: string): never {
        throw nativeError('NATIVE_MALFORMED', this.file, `invalid JSON: ${what}`, this.line)
    }

    skip(): void {
        for (;;) {
            const c = this.text[this.pos]
            if (c === '\n') this.line++
            else if (c !== ' ' && c !== '\t' && c !== '\r') return
            this.pos++
        }
    }

    expect(c: string): void {
        this.skip()
        if (this.text[this.pos] !== c) this.fail(`expected "${c}"`)
        this.pos++
    }

    string(): string {
        const start = this.pos
        if (this.text[this.pos] !== '"') this.fail('expected a string')
        this.pos++
        for (;;) {
            const c = this.text[this.pos]
            if (c === undefined || c === '\n') this.fail('unterminated string')
            if (c === '\\') this.pos += 2
            else if (c === '"') break
            else this.pos++
        }
        this.pos++
        try {
            return JSON.parse(this.text.slice(start, this.pos)) as string
        } catch {
            return this.fail('bad escape in a string')
        }
    }

    value(depth: number): TreeNode {
        if (depth > 256) this.fail('nesting deeper than 256 levels')
        this.skip()
        const line = this.line
        const c = this.text[this.pos]
        if (c === '{') return this.object(depth)
        if (c === '[') return this.array(depth)
        if (c === '"') {
            const value = this.string()
            return scalarNode({ type: 'str', value }, value, line)
        }
        const m = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(this.text.slice(this.pos, this.pos + 400))
        if (!m) this.fail('unexpected character')
        const raw = m[0]
        this.pos += raw.length
        if (raw === 'true' || raw === 'false') return scalarNode({ type: 'bool', value: raw === 'true' }, raw, line)
        if (raw === 'null') return scalarNode({ type: 'null' }, raw, line)
        const int = parseGoInt(raw)
        if (int !== undefined) return scalarNode({ type: 'int', value: int }, raw, line)
        const float = Number(raw)
        if (!Number.isFinite(float)) this.fail('number out of range')
        return scalarNode({ type: 'float', value: float }, raw, line)
    }

    object(depth: number): MapNode {
        this.expect('{')
        const items: MapEntry[] = []
        this.skip()
        if (this.text[this.pos] === '}') { this.pos++; return { kind: 'map', items } }
        for (;;) {
            this.skip()
            const line = this.line
            const key = this.string()
            this.expect(':')
            items.push({ kind: 'entry', key, value: this.value(depth + 1), line })
            this.skip()
            const c = this.text[this.pos++]
            if (c === '}') return { kind: 'map', items }
            if (c !== ',') this.fail('expected "," or "}"')
        }
    }

    array(depth: number): ListNode {
        this.expect('[')
        const items: TreeNode[] = []
        this.skip()
        if (this.text[this.pos] === ']') { this.pos++; return { kind: 'list', items } }
        for (;;) {
            items.push(this.value(depth + 1))
            this.skip()
            const c = this.text[this.pos++]
            if (c === ']') return { kind: 'list', items }
            if (c !== ',') this.fail('expected "," or "]"')
        }
    }
}

/** Plain JS form of a node, for the metadata block (null-prototype objects). */
export const toPlain = (node: TreeNode): unknown => {
    if (node.kind === 'list') return node.items.map((item) => (item.kind === 'comment' ? undefined : toPlain(item)))
    if (node.kind === 'map') {
        const out = Object.create(null) as Record<string, unknown>
        for (const item of node.items) if (item.kind === 'entry') out[item.key] = toPlain(item.value)
        return out
    }
    const s = node.scalar
    return s.type === 'null' ? null : s.type === 'time' ? s.text : s.type === 'int' ? Number(s.value) : s.value
}

/**
 * Parses a JSON store file (the binary store uses the same envelope).
 * @throws KeyfleetError NATIVE_MALFORMED with the line for invalid JSON or a non-object top level.
 */
export const parseJson = (text: string, file: string | undefined): JsonDocument => {
    const reader = new Reader(text.replace(/^\uFEFF/, ''), file)
    reader.skip()
    if (reader.text[reader.pos] !== '{') reader.fail('sops JSON files have an object at the top level')
    const root = reader.object(0)
    reader.skip()
    if (reader.pos < reader.text.length) reader.fail('text after the top-level object')
    let metadataBlock: unknown
    const items = root.items.filter((item) => {
        if (item.kind === 'entry' && item.key === 'sops') {
            metadataBlock = toPlain(item.value)
            return false
        }
        return true
    })
    return { branch: { kind: 'map', items }, metadataBlock }
}
