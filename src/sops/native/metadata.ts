/**
 * Reads the `sops` metadata block (already turned into plain JS values by the
 * store parser) into {@link SopsMetadata}, validating what decryption relies on.
 */
import { nativeError } from './errors.js'
import { sopsAcceptsVersion } from './version.js'
import type { AgeStanza, SelectionRule, SopsMetadata } from './types.js'

const SELECTION_KINDS = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex'] as const
const OTHER_SOURCES = ['pgp', 'kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault'] as const

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined)

const ageEntries = (list: unknown, file: string | undefined): AgeStanza[] => asList(list).map((entry, i) => {
    if (!isRecord(entry)) throw nativeError('NATIVE_MALFORMED', file, `sops.age[${i}] is not a mapping; the metadata is damaged`)
    // sops (agekey.toInternal) checks neither field: an entry without enc simply never opens, and the recipient is a label.
    return { recipient: asString(entry.recipient) ?? '', enc: asString(entry.enc) ?? '' }
})

/**
 * Builds the metadata from the parsed `sops` block.
 * @throws KeyfleetError NATIVE_NOT_SOPS when `block` is absent; NATIVE_MALFORMED for a damaged block
 *   (missing lastmodified/mac, more than one selection rule, several Shamir key groups).
 */
export const readMetadata = (block: unknown, file: string | undefined): SopsMetadata => {
    if (block === undefined) throw nativeError('NATIVE_NOT_SOPS', file, 'no sops metadata found: this file is not encrypted with sops (encrypt it with `sops encrypt` or `keyfleet set`)')
    if (!isRecord(block)) throw nativeError('NATIVE_MALFORMED', file, 'the sops metadata is not a mapping; the file is damaged')
    const lastmodified = asString(block.lastmodified)
    const mac = asString(block.mac)
    if (lastmodified === undefined) throw nativeError('NATIVE_MALFORMED', file, 'sops.lastmodified is missing; the file is damaged')
    if (mac === undefined) throw nativeError('NATIVE_MALFORMED', file, 'sops.mac is missing; the file is damaged')
    const rules: SelectionRule[] = []
    for (const kind of SELECTION_KINDS) {
        const value = asString(block[kind])
        if (value !== undefined && value !== '') rules.push({ kind, value })
    }
    if (rules.length > 1) throw nativeError('NATIVE_MALFORMED', file, `the sops metadata sets ${rules.map((r) => r.kind).join(' and ')}; sops allows only one selection rule`)
    const age = ageEntries(block.age, file)
    const other = new Set<string>(OTHER_SOURCES.filter((name) => asList(block[name]).length > 0))
    const groups = asList(block.key_groups)
    if (groups.length > 1) {
        // Several groups mean the data key is Shamir-split; each group holds one share.
        throw nativeError('NATIVE_UNSUPPORTED_KEY_SOURCE', file, `the data key is split across ${groups.length} key groups (Shamir); native decryption supports one group. Use \`--engine sops\``)
    }
    for (const group of groups) {
        if (!isRecord(group)) continue
        age.push(...ageEntries(group.age, file))
        for (const name of OTHER_SOURCES) if (asList(group[name]).length > 0) other.add(name)
    }
    const version = asString(block.version) ?? ''
    if (!sopsAcceptsVersion(version)) throw nativeError('NATIVE_MALFORMED', file, `sops.version ${version === '' ? 'is missing' : `"${version.slice(0, 40)}" is not a semantic version`}; sops refuses to decrypt such a file`)
    const macOnly = block.mac_only_encrypted
    return {
        version,
        lastmodified,
        mac,
        age,
        otherKeySources: [...other],
        selection: rules[0],
        macOnlyEncrypted: macOnly === true || macOnly === 'true' || macOnly === 'True',
    }
}

type Token = { readonly map: string } | { readonly list: number }
interface FlatNode { value?: string; subkeys?: Map<string, FlatNode>; indices?: Map<number, FlatNode> }

/** stores/flatten.go tokenize: split at `__map_` / `__list_`; a list index that is not a number is 0 (Go's ignored Atoi error). */
const tokenize = (path: string): Token[] => {
    const tokens: Token[] = []
    const re = /__map_|__list_/g
    let last = 0
    let state: 'normal' | 'map' | 'list' = 'normal'
    const finish = (end: number): void => {
        const text = path.slice(last + (state === 'map' ? 6 : state === 'list' ? 7 : 0), end)
        tokens.push(state === 'list' ? { list: /^[+-]?[0-9]+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : 0 } : { map: text })
        last = end
    }
    for (let m = re.exec(path); m; m = re.exec(path)) {
        finish(m.index)
        state = m[0] === '__map_' ? 'map' : 'list'
    }
    finish(path.length)
    return tokens
}

const convert = (node: FlatNode, file: string | undefined): unknown => {
    const kinds = [node.value !== undefined, (node.subkeys?.size ?? 0) > 0, (node.indices?.size ?? 0) > 0].filter(Boolean).length
    if (kinds > 1) throw nativeError('NATIVE_MALFORMED', file, "a sops metadata line is both a value and a nested field (sops: \"Type mismatch\")")
    if (node.value !== undefined) return node.value
    if (node.subkeys && node.subkeys.size > 0) {
        const out = Object.create(null) as Record<string, unknown>
        for (const [k, child] of node.subkeys) out[k] = convert(child, file)
        return out
    }
    if (node.indices && node.indices.size > 0) {
        const indices = [...node.indices.keys()]
        if (Math.min(...indices) !== 0 || Math.max(...indices) + 1 !== indices.length) throw nativeError('NATIVE_MALFORMED', file, "a sops metadata list has gaps (sops: \"Incomplete list\")")
        return indices.sort((a, b) => a - b).map((i) => convert(node.indices?.get(i) as FlatNode, file))
    }
    return Object.create(null) as Record<string, unknown>
}

/**
 * Rebuilds the nested `sops` block from dotenv's flattened `sops_*` lines
 * (`age__list_0__map_enc` → `{ age: [{ enc }] }`) exactly as sops' unflattenTreeBranch does,
 * refusing what it refuses: a repeated line ("Duplicate value"), a field that is both a value and
 * a container ("Type mismatch"), list indices with gaps ("Incomplete list").
 * @throws KeyfleetError NATIVE_MALFORMED naming the metadata key (metadata holds no secret values).
 */
export const unflattenMetadata = (flat: readonly (readonly [string, string])[], file?: string): Record<string, unknown> => {
    const root: FlatNode = {}
    for (const [key, value] of flat) {
        let node = root
        for (const token of tokenize(key)) {
            if ('map' in token) {
                node.subkeys ??= new Map()
                let next = node.subkeys.get(token.map)
                if (!next) { next = {}; node.subkeys.set(token.map, next) }
                node = next
            } else {
                node.indices ??= new Map()
                let next = node.indices.get(token.list)
                if (!next) { next = {}; node.indices.set(token.list, next) }
                node = next
            }
        }
        if (node.value !== undefined) throw nativeError('NATIVE_MALFORMED', file, `the sops metadata line sops_${key} appears twice (sops refuses: "Duplicate value")`)
        node.value = value
    }
    const tree = convert(root, file)
    if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw nativeError('NATIVE_MALFORMED', file, 'the sops metadata lines do not form a mapping')
    return tree as Record<string, unknown>
}
