/**
 * A parsed YAML document that remembers where each node came from, so that
 * schema checks can report `file:line` for every finding.
 */
import { LineCounter, parseDocument, isNode, type Document } from 'yaml'

/** A YAML document plus the line index of its source text. */
export interface YamlSource {
    readonly file: string
    readonly doc: Document
    /** 1-based line of the node at `path` (or of the nearest ancestor that exists); 1 when unknown. */
    lineOf(path: readonly (string | number)[]): number
    /** Syntax errors of the document, each with its line. */
    readonly syntaxErrors: readonly { line: number; message: string }[]
}

/**
 * Parses `text` keeping comments, order and positions. Never throws: syntax
 * errors (duplicate keys included) are returned in `syntaxErrors`.
 */
export const parseYamlSource = (text: string, file: string): YamlSource => {
    const lineCounter = new LineCounter()
    const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
    const lineAt = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line)
    const lineOf = (path: readonly (string | number)[]): number => {
        for (let depth = path.length; depth >= 0; depth--) {
            const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)
            if (isNode(node) && node.range) return lineAt(node.range[0])
        }
        return 1
    }
    const syntaxErrors = doc.errors.map((error) => ({
        line: lineAt(error.pos[0]),
        // yaml's messages quote source excerpts; keep only the first sentence.
        message: error.message.split('\n')[0] ?? error.code,
    }))
    return { file, doc, lineOf, syntaxErrors }
}
