/**
 * An exact fast path for the YAML that keyfleet's own files hold (catalog, `.sops.yaml`,
 * deployment.yaml): block maps and sequences, single-line flow collections, plain and
 * quoted single-line scalars, comments and blank lines. Start-up budget (issue 15): the
 * `yaml` package's cold parse of a 2 kB catalog costs about half of `node -e 0`.
 *
 * It returns what the `yaml` package (2.x, YAML 1.2 core schema, `uniqueKeys`) would: the same
 * `toJS()` value and the same start line of every node. The moment it meets anything else
 * (anchors, tags, block scalars, multi-line scalars, escapes, directives, tabs, CR, odd
 * indentation, duplicate or non-string keys, …) it returns `undefined` and the caller hands
 * the text to the `yaml` package. test/yaml-fast.test.ts holds it to the package on seeded
 * documents in and near the subset and on every YAML file of the repository.
 */

/** A node of the subset with the 1-based line its range starts on (as yaml's `range[0]`). */
export type FastNode =
    | { readonly kind: 'map'; readonly line: number; readonly keys: string[]; readonly values: FastNode[] }
    | { readonly kind: 'seq'; readonly line: number; readonly items: FastNode[] }
    | { readonly kind: 'scalar'; readonly line: number; readonly value: string | number | boolean | null }

interface Line { indent: number; content: string; readonly no: number }

/** Thrown inside the parser only: "outside the subset", turned into `undefined` at the edge. */
class Outside extends Error {}
const outside = (): never => { throw new Outside() }

// C0/C1 controls, DEL, tab, CR, NEL, line/paragraph separators, BOM, surrogates, non-characters:
// each is either a YAML error, a break of its own or a case the subset does not take.
const REFUSED_CHARS = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029\uD800-\uDFFF\uFEFF\uFFFE\uFFFF]/
// Characters that may not start a plain scalar (YAML 1.2 c-indicator), plus space.
const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@` '])
const FLOW_INDICATORS = new Set([...',[]{}'])

/** Resolves a plain scalar as the YAML 1.2 core schema does (yaml's schema/core, same tests in the same order). */
const resolvePlain = (s: string): string | number | boolean | null => {
    if (/^(?:~|[Nn]ull|NULL)$/.test(s)) return null
    if (/^(?:[Tt]rue|TRUE)$/.test(s)) return true
    if (/^(?:[Ff]alse|FALSE)$/.test(s)) return false
    if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8)
    if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10)
    if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16)
    if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s.startsWith('-') ? -Infinity : Infinity
    if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s)
    return s
}

/** Reads scalars and flow collections within one line. */
class LineReader {
    pos: number
    constructor(readonly text: string, start: number, readonly no: number) { this.pos = start }

    private spaces(): number { const from = this.pos; while (this.text[this.pos] === ' ') this.pos++; return this.pos - from }

    /** Nothing but spaces and a comment (which needs a space before it) up to the end of the line. */
    rest(): boolean {
        const from = this.pos
        this.spaces()
        if (this.pos === this.text.length) return true
        return this.text[this.pos] === '#' && (this.pos > from || this.pos === 0 || this.text[this.pos - 1] === ' ')
    }

    quoted(): string {
        const q = this.text[this.pos]
        let out = ''
        for (let i = this.pos + 1; i < this.text.length; i++) {
            const c = this.text[i] as string
            if (q === '"' && c === '\\') outside()
            if (c !== q) { out += c; continue }
            if (q === "'" && this.text[i + 1] === "'") { out += "'"; i++; continue }
            this.pos = i + 1
            return out
        }
        return outside()
    }

    /** A plain scalar's source: `flow` stops at flow indicators; `: `, ` #` end it in both contexts. */
    plain(flow: boolean): string {
        const t = this.text
        const first = t[this.pos] as string
        if (first === undefined || (INDICATORS.has(first) && !(first === '-' && t[this.pos + 1] !== undefined && !INDICATORS.has(t[this.pos + 1] as string)))) outside()
        const from = this.pos
        let end = this.pos
        for (let i = this.pos; i < t.length; i++) {
            const c = t[i] as string
            if (c === ' ') { if (t[i + 1] === '#') break; continue }
            if (c === ':') {
                const next = t[i + 1]
                if (next === undefined || next === ' ' || (flow && FLOW_INDICATORS.has(next))) break
            }
            if (flow && FLOW_INDICATORS.has(c)) break
            end = i + 1
        }
        this.pos = end
        return t.slice(from, end)
    }

    /** A key of a block or flow map: a quoted or plain scalar resolving to a string, then `:` and a space or the end. */
    key(flow: boolean): string | undefined {
        const save = this.pos
        const c = this.text[this.pos]
        let key: string
        if (c === "'" || c === '"') {
            try { key = this.quoted() } catch { this.pos = save; return undefined }
        } else {
            // Not a plain scalar's start (a flow collection, an alias, …): not a key; the value reader decides.
            if (c === undefined || (INDICATORS.has(c) && !(c === '-' && this.text[this.pos + 1] !== undefined && !INDICATORS.has(this.text[this.pos + 1] as string)))) return undefined
            key = this.plain(flow)
            if (typeof resolvePlain(key) !== 'string') outside()
        }
        if (this.text[this.pos] !== ':' || (this.text[this.pos + 1] !== undefined && this.text[this.pos + 1] !== ' ')) { this.pos = save; return undefined }
        // Keys the package treats specially (merge, prototype) or refuses (over 1024 characters).
        if (key === '<<' || key === '__proto__' || key === '' || key.length > 1000) outside()
        this.pos++
        return key
    }

    /** A value within the line: quoted, flow collection or plain scalar. */
    value(flow: boolean): FastNode {
        const c = this.text[this.pos]
        const line = this.no
        if (c === "'" || c === '"') return { kind: 'scalar', line, value: this.quoted() }
        if (c === '[' || c === '{') return this.flow()
        const source = this.plain(flow)
        if (source === '') outside()
        return { kind: 'scalar', line, value: resolvePlain(source) }
    }

    flow(): FastNode {
        const open = this.text[this.pos]
        const close = open === '[' ? ']' : '}'
        const line = this.no
        this.pos++
        const keys: string[] = []
        const values: FastNode[] = []
        this.spaces()
        if (this.text[this.pos] !== close) {
            for (;;) {
                if (open === '{') {
                    const key = this.key(true)
                    if (key === undefined || keys.includes(key)) outside()
                    if (this.spaces() === 0) outside()
                    keys.push(key as string)
                }
                const c = this.text[this.pos]
                if (c === ',' || c === close || c === undefined || c === '#') outside()
                values.push(this.value(true))
                this.spaces()
                // `[a: b]` (a single-pair map) and anything but `,` or the close are outside the subset.
                const after = this.text[this.pos]
                if (after === close) break
                if (after !== ',') outside()
                this.pos++
                this.spaces()
                if (this.text[this.pos] === close) outside()
            }
        }
        this.pos++
        return open === '[' ? { kind: 'seq', line, items: values } : { kind: 'map', line, keys, values }
    }
}

/** The block structure, read line by line. */
class BlockParser {
    i = 0
    constructor(readonly lines: Line[]) {}

    /** Index of the next line that is neither blank nor a comment. */
    private next(): Line | undefined {
        while (this.i < this.lines.length) {
            const l = this.lines[this.i] as Line
            if (l.content !== '' && !l.content.startsWith('#')) return l
            this.i++
        }
        return undefined
    }

    private isItem = (l: Line): boolean => l.content === '-' || l.content.startsWith('- ')

    block(): FastNode {
        const l = this.next() ?? outside()
        return this.isItem(l) ? this.seq(l.indent) : this.map(l.indent)
    }

    /** What follows `key:` or `-` with nothing else on the line: a deeper block, a same-indent sequence (maps only), or outside. */
    private nested(indent: number, inMap: boolean): FastNode {
        const l = this.next()
        if (l !== undefined && l.indent > indent) return this.block()
        if (l !== undefined && inMap && l.indent === indent && this.isItem(l)) return this.seq(indent)
        // An empty value: its position is yaml's guess at where it would have been; not in the subset.
        return outside()
    }

    private seq(indent: number): FastNode {
        const first = this.next() as Line
        const node = { kind: 'seq' as const, line: first.no, items: [] as FastNode[] }
        for (let l = this.next(); l !== undefined && l.indent === indent && this.isItem(l); l = this.next()) {
            const r = new LineReader(l.content, 1, l.no)
            if (r.rest()) { this.i++; node.items.push(this.nested(indent, false)); continue }
            const at = r.pos
            if (l.content[at] === '-' && (l.content[at + 1] === undefined || l.content[at + 1] === ' ')) outside()
            if (r.key(false) !== undefined) {
                // `- key: value`: a map whose keys sit at the column of this first key.
                this.lines[this.i] = { indent: indent + at, content: l.content.slice(at), no: l.no }
                node.items.push(this.map(indent + at))
                continue
            }
            node.items.push(this.inline(r))
            this.i++
        }
        this.after(indent)
        return node
    }

    private map(indent: number): FastNode {
        const first = this.next() as Line
        const node = { kind: 'map' as const, line: first.no, keys: [] as string[], values: [] as FastNode[] }
        for (let l = this.next(); l !== undefined && l.indent === indent && !this.isItem(l); l = this.next()) {
            const r = new LineReader(l.content, 0, l.no)
            const key = r.key(false) ?? outside()
            if (node.keys.includes(key)) outside()
            node.keys.push(key)
            if (r.rest()) { this.i++; node.values.push(this.nested(indent, true)); continue }
            if (r.pos === l.content.length || l.content[r.pos - 1] !== ' ') outside()
            node.values.push(this.inline(r))
            this.i++
        }
        this.after(indent)
        return node
    }

    /** A value on the line of its key or `-`; the line must end after it. */
    private inline(r: LineReader): FastNode {
        const value = r.value(false)
        // A plain value holding `: ` would be a nested map on one line (an error for yaml).
        if (!r.rest()) outside()
        return value
    }

    /** A block ends at a shallower line; a deeper one (a continuation line) is outside the subset. */
    private after(indent: number): void {
        const l = this.next()
        if (l !== undefined && l.indent > indent) outside()
    }
}

/**
 * Parses `text` when it lies in the subset; `undefined` means "ask the `yaml` package".
 * Never throws.
 */
export const parseFast = (text: string): FastNode | undefined => {
    if (REFUSED_CHARS.test(text)) return undefined
    const lines: Line[] = []
    let no = 0
    for (const raw of text.split('\n')) {
        no++
        // Document markers and directives; long lines (yaml limits implicit keys to 1024 characters).
        if (raw.startsWith('---') || raw.startsWith('...') || raw.startsWith('%') || raw.length > 1000) return undefined
        // Spaces only: String#trim would also take U+00A0 and other spaces YAML does not indent with.
        const content = raw.replace(/^ +/, '')
        lines.push({ indent: raw.length - content.length, content: content.replace(/ +$/, ''), no })
    }
    const parser = new BlockParser(lines)
    try {
        const root = parser.block()
        for (let i = parser.i; i < lines.length; i++) {
            const content = (lines[i] as Line).content
            if (content !== '' && !content.startsWith('#')) return undefined
        }
        return root
    } catch (error) {
        if (error instanceof Outside) return undefined
        throw error
    }
}

/** The node's value as yaml's `toJS()` gives it (maps as plain objects). */
export const fastToJS = (node: FastNode): unknown => {
    if (node.kind === 'scalar') return node.value
    if (node.kind === 'seq') return node.items.map(fastToJS)
    const out: Record<string, unknown> = {}
    node.keys.forEach((key, i) => { out[key] = fastToJS(node.values[i] as FastNode) })
    return out
}

/** The node at `path` as yaml's `getIn(path, true)` finds it (a string index works on a sequence). */
export const fastGetIn = (root: FastNode, path: readonly (string | number)[]): FastNode | undefined => {
    let node: FastNode | undefined = root
    for (const step of path) {
        if (node === undefined) return undefined
        if (node.kind === 'map') {
            const at: number = typeof step === 'string' ? node.keys.indexOf(step) : -1
            node = at < 0 ? undefined : node.values[at]
        } else if (node.kind === 'seq') {
            const idx = typeof step === 'string' && step !== '' ? Number(step) : step
            node = typeof idx === 'number' && Number.isInteger(idx) && idx >= 0 ? node.items[idx] : undefined
        } else return undefined
    }
    return node
}
