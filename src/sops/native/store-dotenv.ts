/**
 * The dotenv store, as sops reads it: split at the first `=` (no quoting),
 * `#` lines are comments, empty lines dropped, a literal `\n` in a value is a
 * newline, and `sops_*` lines are the flattened metadata.
 */
import { nativeError } from './errors.js'
import { unflattenMetadata } from './metadata.js'
import { scalarNode, str, type CommentNode, type MapEntry, type MapNode } from './tree.js'

/** A dotenv document split into data and metadata. */
export interface DotenvDocument { readonly branch: MapNode; readonly metadataBlock: Record<string, unknown> | undefined }

/**
 * Parses dotenv text.
 * @throws KeyfleetError NATIVE_MALFORMED naming the line of a line without `=` (the line itself is not quoted: it may hold a value).
 */
export const parseDotenv = (text: string, file: string | undefined): DotenvDocument => {
    const items: (MapEntry | CommentNode)[] = []
    const flat: [string, string][] = []
    const lines = text.split('\n')
    lines.forEach((line, index) => {
        const lineNo = index + 1
        if (line.length === 0) return
        if (line.startsWith('#')) {
            items.push({ kind: 'comment', text: line.slice(1), line: lineNo })
            return
        }
        const eq = line.indexOf('=')
        if (eq === -1) throw nativeError('NATIVE_MALFORMED', file, 'a line has no `=`; dotenv lines are NAME=value', lineNo)
        const key = line.slice(0, eq)
        const raw = line.slice(eq + 1)
        const value = raw.replaceAll('\\n', '\n')
        if (key.startsWith('sops_')) flat.push([key.slice('sops_'.length), value])
        else items.push({ kind: 'entry', key, value: scalarNode(str(value), raw, lineNo), line: lineNo })
    })
    return { branch: { kind: 'map', items }, metadataBlock: flat.length === 0 ? undefined : unflattenMetadata(flat, file) }
}
