/**
 * Prints a decrypted file the way `sops decrypt --output-type <store>` does:
 * dotenv lines, Go-style JSON (tab indent, HTML-safe escapes), yaml.v3-style
 * YAML (4-space indent, comments kept), or the raw binary payload.
 */
import { Document, Pair, Scalar as YamlScalar, YAMLMap, YAMLSeq } from 'yaml'
import { internalsOf, type Plaintexts } from './decrypt.js'
import { formatFloatJson, formatFloatYaml } from './go-values.js'
import { needsQuotes } from './yaml-resolve.js'
import type { Branches, CommentNode, MapNode, Scalar, TreeNode } from './tree.js'
import type { DecryptedFile } from './types.js'
import { KeyfleetError } from '../../errors.js'

const scalarOf = (node: TreeNode & { kind: 'scalar' }, plain: Plaintexts): Scalar => plain.scalars.get(node) ?? node.scalar
const commentOf = (node: CommentNode, plain: Plaintexts): string => plain.comments.get(node) ?? node.text

// Go's encoding/json escapes <, >, & and U+2028/U+2029 on top of what JSON.stringify escapes.
const goJsonString = (s: string): string =>
    JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

const jsonScalar = (s: Scalar): string => {
    switch (s.type) {
        case 'str': return goJsonString(s.value)
        case 'int': return s.value.toString()
        case 'float': return formatFloatJson(s.value)
        case 'bool': return String(s.value)
        case 'time': return goJsonString(s.text)
        case 'null': return 'null'
    }
}

const jsonNode = (node: TreeNode, plain: Plaintexts, depth: number): string => {
    if (node.kind === 'scalar') return jsonScalar(scalarOf(node, plain))
    const inner = '\t'.repeat(depth + 1)
    const parts = node.kind === 'map'
        ? node.items.flatMap((i) => (i.kind === 'entry' ? [`${inner}${goJsonString(i.key)}: ${jsonNode(i.value, plain, depth + 1)}`] : []))
        : node.items.flatMap((i) => (i.kind === 'comment' ? [] : [`${inner}${jsonNode(i, plain, depth + 1)}`]))
    const [open, close] = node.kind === 'map' ? ['{', '}'] : ['[', ']']
    return parts.length === 0 ? `${open}${close}` : `${open}\n${parts.join(',\n')}\n${'\t'.repeat(depth)}${close}`
}

const yamlScalar = (s: Scalar): YamlScalar => {
    const text = s.type === 'str' ? s.value : s.type === 'int' ? s.value.toString() : s.type === 'float' ? formatFloatYaml(s.value)
        : s.type === 'bool' ? String(s.value) : s.type === 'time' ? s.text : 'null'
    const node = new YamlScalar(text)
    if (s.type !== 'str') node.type = 'PLAIN'
    else if (text.includes('\n')) node.type = 'BLOCK_LITERAL'
    else if (needsQuotes(text)) node.type = 'QUOTE_DOUBLE'
    return node
}

const yamlKey = (key: string): YamlScalar => yamlScalar({ type: 'str', value: key })

const yamlNode = (node: TreeNode, plain: Plaintexts): YamlScalar | YAMLMap | YAMLSeq => {
    if (node.kind === 'scalar') return yamlScalar(scalarOf(node, plain))
    let pending: string[] = []
    const attach = (target: { commentBefore?: string | null }): void => {
        if (pending.length > 0) target.commentBefore = pending.join('\n')
        pending = []
    }
    if (node.kind === 'list') {
        const seq = new YAMLSeq()
        for (const item of node.items) {
            if (item.kind === 'comment') { pending.push(commentOf(item, plain)); continue }
            const child = yamlNode(item, plain)
            attach(child)
            seq.items.push(child)
        }
        if (pending.length > 0) seq.comment = pending.join('\n')
        return seq
    }
    const map = new YAMLMap()
    for (const item of node.items) {
        if (item.kind === 'comment') { pending.push(commentOf(item, plain)); continue }
        const key = yamlKey(item.key)
        attach(key)
        map.items.push(new Pair(key, yamlNode(item.value, plain)))
    }
    if (pending.length > 0) map.comment = pending.join('\n')
    return map
}

const formatYaml = (branches: Branches, plain: Plaintexts): string => branches.map((branch: MapNode) => {
    const doc = new Document(null, { schema: 'failsafe' })
    const root = yamlNode(branch, plain) as YAMLMap
    if (root.items.length === 0) return root.comment ? `${root.comment.split('\n').map((l) => `#${l}`).join('\n')}\n{}\n` : '{}\n'
    doc.contents = root
    return doc.toString({ indent: 4, indentSeq: true, lineWidth: 0, singleQuote: true, directives: false })
}).join('---\n')

const formatDotenv = (branch: MapNode | undefined, plain: Plaintexts): string => (branch?.items ?? []).map((item) => {
    if (item.kind === 'comment') return `#${commentOf(item, plain)}\n`
    const value = item.value.kind === 'scalar' ? scalarOf(item.value, plain) : undefined
    const text = value === undefined ? '' : value.type === 'str' ? value.value.replaceAll('\n', '\\n') : jsonScalar(value)
    return `${item.key}=${text}\n`
}).join('')

/**
 * The text `sops decrypt --output-type <file.store>` prints for this file.
 * YAML follows yaml.v3's choices (4-space indent, quoting of ambiguous strings) closely
 * but not byte for byte in every corner; dotenv, JSON and binary are exact.
 * @throws KeyfleetError NATIVE_MALFORMED when `file` was not produced by decryptSopsFile.
 */
export const formatDecrypted = (file: DecryptedFile): string => {
    const internal = internalsOf(file)
    if (!internal) throw new KeyfleetError('NATIVE_MALFORMED', 'formatDecrypted needs a file returned by decryptSopsFile')
    const { branches, plain } = internal
    switch (file.store) {
        case 'dotenv': return formatDotenv(branches[0], plain)
        case 'json': return `${jsonNode(branches[0] ?? { kind: 'map', items: [] }, plain, 0)}\n`
        case 'binary': return typeof file.tree === 'string' ? file.tree : ''
        case 'yaml': return formatYaml(branches, plain)
    }
}
