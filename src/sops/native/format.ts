/**
 * Prints a decrypted file the way `sops decrypt --output-type <store>` does:
 * dotenv lines, Go-style JSON (tab indent, HTML-safe escapes), yaml.v3-style
 * YAML (4-space indent, comments kept), or the raw binary payload.
 */
import { isUtf8 } from 'node:buffer'
import { internalsOf, type Plaintexts } from './decrypt.js'
import { formatYamlLikeSops } from './format-yaml.js'
import { formatFloatJson, formatFloatYaml } from './go-values.js'
import type { Branches, CommentNode, MapNode, Scalar, TreeNode } from './tree.js'
import type { DecryptedFile } from './types.js'
import { KeyfleetError } from '../../errors.js'

const scalarOf = (node: TreeNode & { kind: 'scalar' }, plain: Plaintexts): Scalar => plain.scalars.get(node) ?? node.scalar
const commentOf = (node: CommentNode, plain: Plaintexts): string => plain.comments.get(node) ?? node.text

// Go's encoding/json escapes <, >, & and U+2028/U+2029 on top of what JSON.stringify escapes.
const goJsonString = (s: string): string =>
    JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** Go's json string of raw bytes: each invalid UTF-8 byte becomes the escape `\ufffd` (a real U+FFFD stays literal). */
const goJsonBytes = (bytes: Buffer): string => {
    let out = ''
    let start = 0
    let i = 0
    const flush = (end: number): void => { if (end > start) out += goJsonString(bytes.subarray(start, end).toString('utf8')).slice(1, -1) }
    while (i < bytes.length) {
        const b = bytes[i] as number
        const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
        if (len > 0 && i + len <= bytes.length && isUtf8(bytes.subarray(i, i + len))) { i += len; continue }
        flush(i)
        out += '\\ufffd'
        start = ++i
    }
    flush(i)
    return `"${out}"`
}

const jsonScalar = (s: Scalar, depth = 0): string => {
    switch (s.type) {
        case 'str': return s.bytes ? goJsonBytes(s.bytes) : goJsonString(s.value)
        // sops marshals its Comment struct: a value labelled type:comment prints as an object.
        case 'comment': return `{\n${'\t'.repeat(depth + 1)}"Value": ${goJsonString(s.value)},\n${'\t'.repeat(depth + 1)}"Inline": false\n${'\t'.repeat(depth)}}`
        case 'int': return s.value.toString()
        case 'float':
            // encoding/json refuses ±Inf and NaN, so `sops decrypt --output-type json` fails on them (exit 4).
            if (!Number.isFinite(s.value)) throw new KeyfleetError('NATIVE_OUTPUT_UNSUPPORTED', `a value is ${String(s.value)}, which JSON cannot carry (sops refuses this output too); choose --output-type yaml`)
            return formatFloatJson(s.value)
        case 'bool': return String(s.value)
        case 'time': return goJsonString(s.text)
        case 'null': return 'null'
    }
}

const jsonNode = (node: TreeNode, plain: Plaintexts, depth: number): string => {
    if (node.kind === 'scalar') return jsonScalar(scalarOf(node, plain), depth)
    const inner = '\t'.repeat(depth + 1)
    const parts = node.kind === 'map'
        ? node.items.flatMap((i) => (i.kind === 'entry' ? [`${inner}${goJsonString(i.key)}: ${jsonNode(i.value, plain, depth + 1)}`] : []))
        // A list item labelled type:comment is a comment to sops, and JSON drops comments.
        : node.items.flatMap((i) => (i.kind === 'comment' || (i.kind === 'scalar' && scalarOf(i, plain).type === 'comment') ? [] : [`${inner}${jsonNode(i, plain, depth + 1)}`]))
    const [open, close] = node.kind === 'map' ? ['{', '}'] : ['[', ']']
    return parts.length === 0 ? `${open}${close}` : `${open}\n${parts.join(',\n')}\n${'\t'.repeat(depth)}${close}`
}

/** sops' dotenv EmitPlainFile: strings with `\n` escaped, anything else through stores.ValToString. */
const dotenvValue = (s: Scalar): string => {
    switch (s.type) {
        case 'str': return s.value.replaceAll('\n', '\\n')
        case 'comment': return `{${s.value} false}`
        case 'int': return s.value.toString()
        case 'bool': return String(s.value)
        // time.Format(time.RFC3339): whole seconds.
        case 'time': return s.text.replace(/\.\d+(?=Z|[+-]\d\d:\d\d$)/, '')
        case 'null': return '<nil>'
        case 'float': {
            // FormatFloat(v, 'G', -1, 64), then at least one decimal when it reads as an integer.
            const g = formatFloatYaml(s.value).replace('e', 'E').replace('.nan', 'NaN').replace(/^(-?)\.inf$/, (_, m: string) => (m ? '-Inf' : '+Inf'))
            return g.includes('.') || g.includes('E') || !/^-?\d+$/.test(g) ? g : `${g}.0`
        }
    }
}

/** A dotenv line's value as bytes: a string that is not UTF-8 is written as its raw bytes, as sops writes it. */
const dotenvBytes = (s: Scalar): Buffer => {
    if (s.type === 'str' && s.bytes) {
        // Go's strings.Replace works on bytes: every 0x0A becomes `\n`, every other byte stays as it is.
        const parts: Buffer[] = []
        let start = 0
        for (let i = s.bytes.indexOf(0x0a); i !== -1; i = s.bytes.indexOf(0x0a, start)) {
            parts.push(s.bytes.subarray(start, i), Buffer.from('\\n'))
            start = i + 1
        }
        parts.push(s.bytes.subarray(start))
        return Buffer.concat(parts)
    }
    if (s.type === 'comment' && s.bytes) return Buffer.concat([Buffer.from('{'), s.bytes, Buffer.from(' false}')])
    return Buffer.from(dotenvValue(s), 'utf8')
}

/**
 * sops' YAML store puts a value's line comment into the tree before the item (appendInlineCommentToMap runs
 * before the append), so a `key: value # note` read from YAML prints `#note` above `key=` in dotenv.
 * Our tree keeps the line comment after its entry; restore sops' order.
 */
const sopsOrder = (items: MapNode['items']): MapNode['items'] => {
    const out: MapNode['items'][number][] = []
    let lastEntry = -1
    for (const item of items) {
        if (item.kind === 'comment' && item.inline === true && lastEntry !== -1) { out.splice(lastEntry, 0, item); lastEntry++; continue }
        lastEntry = item.kind === 'entry' ? out.length : -1
        out.push(item)
    }
    return out
}

const formatDotenv = (branch: MapNode | undefined, plain: Plaintexts): Buffer => Buffer.concat(sopsOrder(branch?.items ?? []).map((item) => {
    if (item.kind === 'comment') return Buffer.from(`#${commentOf(item, plain)}\n`, 'utf8')
    const value = item.value.kind === 'scalar' ? scalarOf(item.value, plain) : undefined
    return Buffer.concat([Buffer.from(`${item.key}=`, 'utf8'), value === undefined ? Buffer.alloc(0) : dotenvBytes(value), Buffer.from('\n')])
}))

/** The output store of {@link formatDecrypted}: the file's own store unless `--output-type` asks for another. */
export type OutputStore = 'dotenv' | 'yaml' | 'json' | 'binary'

const binaryPayload = (branches: Branches, plain: Plaintexts): Buffer => {
    const item = branches[0]?.items.find((i) => i.kind === 'entry' && i.key === 'data')
    const value = item?.kind === 'entry' && item.value.kind === 'scalar' ? scalarOf(item.value, plain) : undefined
    // sops: "'data' key in tree does not have a string value" (exit 4).
    if (value?.type !== 'str') throw new KeyfleetError('NATIVE_MALFORMED', "the binary output needs a string 'data' value at the top level; choose another --output-type")
    return value.bytes ?? Buffer.from(value.value, 'utf8')
}

/**
 * The bytes `sops decrypt --output-type <store>` prints for this file (default: its own store).
 * A binary payload comes back exactly, also when it is not UTF-8.
 * YAML follows yaml.v3's emitter; the corners where it may still differ are listed in docs/native-decryption.md.
 * @throws KeyfleetError NATIVE_MALFORMED when `file` was not produced by decryptSopsFile, when the output store
 *   cannot hold the tree (dotenv: nested values; binary: no string `data`), as sops refuses them.
 */
export const formatDecryptedBytes = (file: DecryptedFile, store: OutputStore = file.store): Buffer => {
    const internal = internalsOf(file)
    if (!internal) throw new KeyfleetError('NATIVE_MALFORMED', 'formatDecrypted needs a file returned by decryptSopsFile')
    const { branches, plain } = internal
    switch (store) {
        case 'dotenv': {
            const branch = branches[0]
            if (branch?.items.some((i) => i.kind === 'entry' && i.value.kind !== 'scalar')) {
                throw new KeyfleetError('NATIVE_MALFORMED', 'the dotenv output cannot hold nested values (sops: "cannot use complex value in dotenv file"); choose --output-type json or yaml')
            }
            return formatDotenv(branch, plain)
        }
        case 'json': return Buffer.from(`${jsonNode(branches[0] ?? { kind: 'map', items: [] }, plain, 0)}\n`, 'utf8')
        case 'binary': return binaryPayload(branches, plain)
        case 'yaml': return Buffer.from(formatYamlLikeSops(branches, plain), 'utf8')
    }
}

/**
 * The text `sops decrypt --output-type <store>` prints (see {@link formatDecryptedBytes}; a binary payload that is
 * not UTF-8 is only exact there).
 * @throws KeyfleetError NATIVE_MALFORMED as {@link formatDecryptedBytes}.
 */
export const formatDecrypted = (file: DecryptedFile, store: OutputStore = file.store): string => formatDecryptedBytes(file, store).toString('utf8')
