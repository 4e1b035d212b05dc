/**
 * Prints a decrypted file the way `sops decrypt --output-type <store>` does:
 * dotenv lines, Go-style JSON (tab indent, HTML-safe escapes), yaml.v3-style
 * YAML (4-space indent, comments kept), or the raw binary payload.
 */
import { randomBytes } from 'node:crypto'
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

// yaml.v3's is_printable: LF, printable ASCII, and the BMP minus C1 controls, surrogates, BOM, U+FFFE/FFFF.
const NOT_PRINTABLE = /[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]/u
const ESCAPES: Record<string, string> = { '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e', '"': '"', '\\': '\\', '\x85': 'N', '\xa0': '_', '\u2028': 'L', '\u2029': 'P' }

/** yaml.v3's double-quoted scalar writer (libyaml's escapes; unicode allowed; no line folding). */
const goDoubleQuoted = (text: string): string => {
    let out = '"'
    for (const ch of text) {
        const code = ch.codePointAt(0) as number
        // libyaml escapes quotes, backslashes, line breaks (\n, \r, NEL, LS, PS), the BOM and anything not printable.
        const escape = ch === '"' || ch === '\\' || ch === '\n' || ch === '\r' || code === 0x85 || code === 0x2028 || code === 0x2029 || code === 0xfeff || NOT_PRINTABLE.test(ch)
        if (!escape) { out += ch; continue }
        const named = ESCAPES[ch]
        if (named !== undefined) out += `\\${named}`
        else if (code <= 0xff) out += `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
        else if (code <= 0xffff) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`
        else out += `\\U${code.toString(16).toUpperCase().padStart(8, '0')}`
    }
    return `${out}"`
}

/** Scalars the yaml package cannot print as yaml.v3 does are emitted as unique placeholders, replaced afterwards. */
interface Placeholders { readonly nonce: string; readonly texts: string[] }

const yamlScalar = (s: Scalar, ph: Placeholders): YamlScalar => {
    const text = s.type === 'str' ? s.value : s.type === 'int' ? s.value.toString() : s.type === 'float' ? formatFloatYaml(s.value)
        : s.type === 'bool' ? String(s.value) : s.type === 'time' ? s.text : 'null'
    if (s.type === 'str' && !text.includes('\n') && (needsQuotes(text) || NOT_PRINTABLE.test(text))) {
        ph.texts.push(goDoubleQuoted(text))
        const node = new YamlScalar(`${ph.nonce}${ph.texts.length - 1}Z`)
        node.type = 'PLAIN'
        return node
    }
    const node = new YamlScalar(text)
    if (s.type !== 'str') node.type = 'PLAIN'
    else if (text.includes('\n')) node.type = 'BLOCK_LITERAL'
    return node
}

const yamlNode = (node: TreeNode, plain: Plaintexts, ph: Placeholders): YamlScalar | YAMLMap | YAMLSeq => {
    if (node.kind === 'scalar') return yamlScalar(scalarOf(node, plain), ph)
    let pending: string[] = []
    const attach = (target: { commentBefore?: string | null }): void => {
        if (pending.length > 0) target.commentBefore = pending.join('\n')
        pending = []
    }
    if (node.kind === 'list') {
        const seq = new YAMLSeq()
        for (const item of node.items) {
            if (item.kind === 'comment') { pending.push(commentOf(item, plain)); continue }
            const child = yamlNode(item, plain, ph)
            attach(child)
            seq.items.push(child)
        }
        if (pending.length > 0) seq.comment = pending.join('\n')
        return seq
    }
    const map = new YAMLMap()
    for (const item of node.items) {
        if (item.kind === 'comment') { pending.push(commentOf(item, plain)); continue }
        const key = yamlScalar({ type: 'str', value: item.key }, ph)
        attach(key)
        map.items.push(new Pair(key, yamlNode(item.value, plain, ph)))
    }
    if (pending.length > 0) map.comment = pending.join('\n')
    return map
}

const formatYaml = (branches: Branches, plain: Plaintexts): string => branches.map((branch: MapNode) => {
    const doc = new Document(null, { schema: 'failsafe' })
    const ph: Placeholders = { nonce: `KFPH${randomBytes(8).toString('hex')}N`, texts: [] }
    const root = yamlNode(branch, plain, ph) as YAMLMap
    if (root.items.length === 0) return root.comment ? `${root.comment.split('\n').map((l) => `#${l}`).join('\n')}\n{}\n` : '{}\n'
    doc.contents = root
    const text = doc.toString({ indent: 4, indentSeq: true, lineWidth: 0, singleQuote: true, directives: false })
    return ph.texts.length === 0 ? text : text.replace(new RegExp(`${ph.nonce}(\\d+)Z`, 'g'), (_, i: string) => ph.texts[Number(i)] ?? '')
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
