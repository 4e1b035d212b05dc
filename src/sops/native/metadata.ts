/**
 * Reads the `sops` metadata block (already turned into plain JS values by the
 * store parser) into {@link SopsMetadata}, validating what decryption relies on.
 */
import { nativeError } from './errors.js'
import type { AgeStanza, SelectionRule, SopsMetadata } from './types.js'

const SELECTION_KINDS = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex'] as const
const OTHER_SOURCES = ['pgp', 'kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault'] as const

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined)

const ageEntries = (list: unknown, file: string | undefined): AgeStanza[] => asList(list).map((entry, i) => {
    const recipient = isRecord(entry) ? asString(entry.recipient) : undefined
    const enc = isRecord(entry) ? asString(entry.enc) : undefined
    if (recipient === undefined || enc === undefined) throw nativeError('NATIVE_MALFORMED', file, `sops.age[${i}] needs a recipient and an enc field; the metadata is damaged`)
    return { recipient, enc }
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
    const macOnly = block.mac_only_encrypted
    return {
        version: asString(block.version) ?? '',
        lastmodified,
        mac,
        age,
        otherKeySources: [...other],
        selection: rules[0],
        macOnlyEncrypted: macOnly === true || macOnly === 'true' || macOnly === 'True',
    }
}

/**
 * Rebuilds the nested `sops` block from dotenv's flattened `sops_*` lines
 * (`age__list_0__map_enc` → `{ age: [{ enc }] }`), as sops' unflatten does.
 */
export const unflattenMetadata = (flat: readonly (readonly [string, string])[]): Record<string, unknown> => {
    // Null-prototype objects: a crafted key such as `__proto__` must stay data.
    const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    for (const [key, value] of flat) {
        const tokens = key.split(/(__map_|__list_)/)
        let container: Record<string, unknown> | unknown[] = root
        let pending: string | number = tokens[0] ?? ''
        for (let i = 1; i + 1 < tokens.length; i += 2) {
            const isList = tokens[i] === '__list_'
            const next: string | number = isList ? Number.parseInt(tokens[i + 1] ?? '', 10) : (tokens[i + 1] ?? '')
            const existing: unknown = (container as Record<string | number, unknown>)[pending]
            const child: Record<string, unknown> | unknown[] = isList
                ? (Array.isArray(existing) ? existing : [])
                : (isRecord(existing) ? existing : Object.create(null) as Record<string, unknown>)
            ;(container as Record<string | number, unknown>)[pending] = child
            container = child
            pending = Number.isNaN(next) ? 0 : next
        }
        ;(container as Record<string | number, unknown>)[pending] = value
    }
    return root
}
