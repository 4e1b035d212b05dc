/**
 * A parsed YAML document that remembers where each node came from, so that
 * schema checks can report `file:line` for every finding.
 *
 * Start-up budget (issue 15): text in the subset of src/yaml-fast.ts (what keyfleet's own
 * files hold) is read without the `yaml` package, which then never loads in `ls`, `get`,
 * `run` or `registry`; any other text goes to the package (src/yaml-document.ts). Both give
 * the same values, lines and views; `doc` parses with the package on first use.
 */
import type { Document } from 'yaml'
import { yamlDocumentSource } from './yaml-document.js'
import { fastGetIn, fastToJS, parseFast, type FastNode } from './yaml-fast.js'

/** One node as the schema readers use it: its kind, a map's keys (as strings) or a sequence's items, and its value. */
export interface YamlNodeView {
    /** `map` and `seq` are block or flow collections (never an alias); anything else is `other`. */
    readonly kind: 'map' | 'seq' | 'other'
    /** A map's keys in source order, each as `String(key)`; empty for other kinds. */
    readonly keys: readonly string[]
    /** A sequence's items in order; empty for other kinds. */
    readonly items: readonly YamlNodeView[]
    /** The node's value as the `yaml` package's `node.toJSON()` gives it. */
    toJSON(): unknown
}

/** A YAML document plus the line index of its source text. */
export interface YamlSource {
    readonly file: string
    /** The `yaml` package's Document (parsed on first access when the fast path read the text). */
    readonly doc: Document
    /** 1-based line of the node at `path` (or of the nearest ancestor that exists); 1 when unknown. */
    lineOf(path: readonly (string | number)[]): number
    /** Syntax errors of the document, each with its line. */
    readonly syntaxErrors: readonly { line: number; message: string }[]
    /** The document's value, as `doc.toJS(options)`. */
    toJS(options?: { maxAliasCount?: number }): unknown
    /** The node at `path` (as `doc.getIn(path, true)` finds it), or undefined. */
    at(path: readonly (string | number)[]): YamlNodeView | undefined
}

const fastView = (node: FastNode): YamlNodeView => ({
    kind: node.kind === 'scalar' ? 'other' : node.kind,
    keys: node.kind === 'map' ? node.keys : [],
    items: node.kind === 'seq' ? node.items.map(fastView) : [],
    toJSON: () => fastToJS(node),
})

/**
 * Parses `text` keeping comments, order and positions. Never throws: syntax
 * errors (duplicate keys included) are returned in `syntaxErrors`.
 */
export const parseYamlSource = (text: string, file: string): YamlSource => {
    const root = parseFast(text)
    if (root === undefined) return yamlDocumentSource(text, file)
    let full: YamlSource | undefined
    return {
        file,
        get doc() { return (full ??= yamlDocumentSource(text, file)).doc },
        lineOf: (path) => {
            for (let depth = path.length; depth >= 0; depth--) {
                const node = fastGetIn(root, path.slice(0, depth))
                if (node !== undefined) return node.line
            }
            return 1
        },
        syntaxErrors: [],
        toJS: () => fastToJS(root),
        at: (path) => {
            const node = fastGetIn(root, path)
            return node === undefined ? undefined : fastView(node)
        },
    }
}
