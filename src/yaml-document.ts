/**
 * {@link YamlSource} on the `yaml` package: the full YAML 1.2 parser, with comments,
 * order and positions. What src/yaml-source.ts falls back to for text outside the fast
 * path's subset, and what callers reach through `doc`.
 */
import { LineCounter, parseDocument, isMap, isNode, isSeq } from 'yaml'
import type { YamlNodeView, YamlSource } from './yaml-source.js'

/** A view of one yaml node with the operations the schema readers use, each as they used it on the node. */
const viewOf = (node: unknown): YamlNodeView => ({
    kind: isMap(node) ? 'map' : isSeq(node) ? 'seq' : 'other',
    get keys() { return isMap(node) ? node.items.map((pair) => String((pair.key as { value?: unknown } | null)?.value ?? pair.key)) : [] },
    get items() { return isSeq(node) ? node.items.map(viewOf) : [] },
    toJSON: (): unknown => (isNode(node) ? (node.toJSON() as unknown) : node),
})

/**
 * Parses `text` with the `yaml` package. Never throws: syntax errors (duplicate keys
 * included) are returned in `syntaxErrors`.
 */
export const yamlDocumentSource = (text: string, file: string): YamlSource => {
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
    return {
        file, doc, lineOf, syntaxErrors,
        toJS: (options) => doc.toJS(options) as unknown,
        at: (path) => {
            const node = path.length === 0 ? doc.contents : doc.getIn(path, true)
            return node === undefined ? undefined : viewOf(node)
        },
    }
}
