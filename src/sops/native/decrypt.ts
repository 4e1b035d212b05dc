/**
 * In-process `sops decrypt`: unwrap the data key once, open every value with
 * its path as AAD, recompute the MAC exactly as sops does and compare it in
 * constant time with the stored one (decrypted with AAD = lastmodified).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { unwrapDataKey } from './age-unwrap.js'
import { describePath, nativeError } from './errors.js'
import { looksEncrypted, macBytes, openValue, parseEncValue, typedFromPlaintext } from './enc-value.js'
import { formatRfc3339, parseRfc3339 } from './go-values.js'
import { parseInternal, type ParsedInternal } from './parse.js'
import type { Branches, CommentNode, MapNode, Scalar, ScalarNode, TreeNode } from './tree.js'
import type { DecryptedEntry, DecryptedFile, StoreKind } from './types.js'

/** Decrypted values keyed by tree node; the formatter walks the tree with it. */
export interface Plaintexts {
    readonly scalars: ReadonlyMap<ScalarNode, Scalar>
    /** Decrypted comment texts (the others print as stored). */
    readonly comments: ReadonlyMap<CommentNode, string>
    /** Comments decrypted as sops' `Comment` type: sops rebuilds them without their `Inline` mark. */
    readonly notInline: ReadonlySet<CommentNode>
}

const internals = new WeakMap<DecryptedFile, { branches: Branches; plain: Plaintexts }>()

/** The tree and plaintexts behind a {@link DecryptedFile}; for the formatter. */
export const internalsOf = (file: DecryptedFile): { branches: Branches; plain: Plaintexts } | undefined => internals.get(file)

/** JS value of a scalar: ints as numbers when exact, else their decimal text; times as text. */
export const jsValue = (s: Scalar): string | number | boolean | null => {
    switch (s.type) {
        case 'str': case 'comment': return s.value
        case 'int': return s.value >= BigInt(Number.MIN_SAFE_INTEGER) && s.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s.value) : s.value.toString()
        case 'float': case 'bool': return s.value
        case 'time': return s.text
        case 'null': return null
    }
}

const define = (target: Record<string, unknown>, key: string, value: unknown): void => {
    // defineProperty, not assignment: a key named __proto__ must stay an own data property.
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

const plainTree = (node: TreeNode, plain: Plaintexts): unknown => {
    if (node.kind === 'scalar') {
        const s = plain.scalars.get(node) ?? node.scalar
        // sops' Comment struct, as its JSON output shows it.
        return s.type === 'comment' ? { Value: s.value, Inline: false } : jsValue(s)
    }
    // A list item labelled type:comment is a comment to sops and leaves the data.
    if (node.kind === 'list') return node.items.filter((i) => i.kind !== 'comment' && !(i.kind === 'scalar' && (plain.scalars.get(i) ?? i.scalar).type === 'comment')).map((i) => plainTree(i as TreeNode, plain))
    const out: Record<string, unknown> = {}
    for (const item of node.items) if (item.kind === 'entry') define(out, item.key, plainTree(item.value, plain))
    return out
}

const decryptEvents = (parsed: ParsedInternal, key: Uint8Array): { plain: Plaintexts; macHex: string } => {
    const { file, metadata } = parsed
    const scalars = new Map<ScalarNode, Scalar>()
    const comments = new Map<CommentNode, string>()
    const notInline = new Set<CommentNode>()
    const hash = createHash('sha512')
    // sha256("sops"): sops seeds the MAC with it when mac_only_encrypted is set. Computed here, not at
    // load: key-less commands import this module and must not load node:crypto for it (issue 15).
    if (metadata.macOnlyEncrypted) hash.update(createHash('sha256').update('sops').digest())
    for (const event of parsed.events) {
        const aad = `${event.path.join(':')}:`
        const where = describePath(event.path)
        if (event.kind === 'comment') {
            const text = event.node.text
            if (event.encrypted && looksEncrypted(text)) {
                const enc = parseEncValue(text)
                const opened = enc && openValue(enc, key, aad)
                // sops panics on a type:bytes label it can open; it never decrypts such a file.
                if (opened && enc.type === 'bytes') throw nativeError('NATIVE_MALFORMED', file, `an encrypted comment under ${where} is labelled type:bytes, which sops cannot decrypt`, event.node.line)
                // Like sops (tree.Decrypt): a comment that does not open, or whose label does not parse, is kept as written
                // ("possibly unencrypted comment"). Comments never enter the MAC, so this cannot hide a changed value.
                const typed = opened && typedFromPlaintext(enc.type, opened)
                if (typed && (typed.type === 'str' || typed.type === 'comment')) {
                    comments.set(event.node, typed.value)
                    if (typed.type === 'comment') notInline.add(event.node)
                }
                else if (typed) throw nativeError('NATIVE_MALFORMED', file, `an encrypted comment under ${where} is labelled type:${enc.type}; sops does not print such a comment`, event.node.line)
            }
            continue
        }
        let value = event.node.scalar
        if (event.encrypted) {
            if (value.type !== 'str') throw nativeError('NATIVE_MALFORMED', file, `${where} should be encrypted but holds a plain ${value.type}`, event.node.line)
            if (value.value !== '') {
                const enc = parseEncValue(value.value)
                if (!enc) throw nativeError('NATIVE_MALFORMED', file, `${where} is not a valid ENC[AES256_GCM,…] value`, event.node.line)
                const opened = openValue(enc, key, aad)
                if (!opened) throw nativeError('NATIVE_MAC_MISMATCH', file, `${where} failed authentication: the value was modified or moved from another key`, event.node.line)
                const typed = typedFromPlaintext(enc.type, opened)
                if (!typed) throw nativeError('NATIVE_MALFORMED', file, enc.type === 'bytes' ? `${where} is labelled type:bytes, which sops cannot decrypt (it panics)` : `${where} does not hold a valid ${enc.type} value`, event.node.line)
                value = typed
            }
            scalars.set(event.node, value)
        }
        if (!metadata.macOnlyEncrypted || event.encrypted) hash.update(macBytes(value))
    }
    return { plain: { scalars, comments, notInline }, macHex: hash.digest('hex').toUpperCase() }
}

const verifyMac = (parsed: ParsedInternal, key: Uint8Array, computed: string): void => {
    const { file, metadata } = parsed
    const time = parseRfc3339(metadata.lastmodified)
    if (!time) throw nativeError('NATIVE_MALFORMED', file, 'sops.lastmodified is not an RFC 3339 time; the metadata is damaged')
    const enc = parseEncValue(metadata.mac)
    const stored = enc && enc.type === 'str' ? openValue(enc, key, formatRfc3339(time)) : undefined
    const expected = Buffer.from(computed, 'utf8')
    // Constant time: never reveal how much of the MAC matched.
    const ok = stored !== undefined && stored.length === expected.length && timingSafeEqual(stored, expected)
    if (!ok) throw nativeError('NATIVE_MAC_MISMATCH', file, 'the file failed its MAC check: it was modified outside sops (or sops.mac / sops.lastmodified were changed). Do not use it; restore it from git')
}

/**
 * Decrypts and verifies a sops file of any store.
 * @param options - `identities`: age identities (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`); all are tried.
 * @throws KeyfleetError NATIVE_NOT_SOPS, NATIVE_MALFORMED, NATIVE_UNSUPPORTED_KEY_SOURCE,
 *   NATIVE_NO_MATCHING_IDENTITY, NATIVE_MAC_MISMATCH; messages name the file and tree path, never a value.
 */
export const decryptSopsFile = async (text: string, options: { store: StoreKind; identities: readonly string[]; file?: string }): Promise<DecryptedFile> => {
    const parsed = parseInternal(text, options.store, options.file)
    const key = await unwrapDataKey(parsed.metadata, options.identities, options.file)
    const { plain, macHex } = decryptEvents(parsed, key)
    verifyMac(parsed, key, macHex)
    const entries: DecryptedEntry[] = []
    for (const event of parsed.events) {
        if (event.kind === 'value') entries.push({ path: event.path, value: jsValue(plain.scalars.get(event.node) ?? event.node.scalar) })
    }
    const trees = parsed.branches.map((branch: MapNode) => plainTree(branch, plain) as Record<string, unknown>)
    const tree: unknown = parsed.store === 'binary' ? trees[0]?.data : trees.length === 1 ? trees[0] : trees
    const toEnvMap = (): Map<string, string> => {
        if (typeof tree === 'string') return new Map([['data', tree]])
        const map = new Map<string, string>()
        for (const branch of parsed.branches) {
            for (const item of branch.items) {
                if (item.kind !== 'entry' || item.value.kind !== 'scalar') continue
                const v = jsValue(plain.scalars.get(item.value) ?? item.value.scalar)
                if (v !== null) map.set(item.key, String(v))
            }
        }
        return map
    }
    const result: DecryptedFile = { store: parsed.store, metadata: parsed.metadata, entries, tree, toEnvMap }
    internals.set(result, { branches: parsed.branches, plain })
    return result
}
