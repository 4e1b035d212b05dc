/**
 * Key-less parsing of any sops store into metadata plus the walked leaves.
 * Decryption reuses the same parse, so a file is read exactly once.
 */
import { nativeError } from './errors.js'
import { readMetadata } from './metadata.js'
import { parseDotenv } from './store-dotenv.js'
import { parseJson } from './store-json.js'
import { parseYaml } from './store-yaml.js'
import type { Branches } from './tree.js'
import type { ParsedSopsFile, SopsLeaf, SopsMetadata, StoreKind } from './types.js'
import { walk, type WalkEvent } from './walk.js'

/** The parse plus what decryption needs. Internal to sops/native. */
export interface ParsedInternal {
    readonly store: StoreKind
    readonly metadata: SopsMetadata
    readonly branches: Branches
    readonly events: readonly WalkEvent[]
    readonly file: string | undefined
}

const STORES: readonly StoreKind[] = ['dotenv', 'yaml', 'json', 'binary']

/**
 * Parses without keys. Internal form with the document tree.
 * @throws KeyfleetError NATIVE_NOT_SOPS (no metadata), NATIVE_MALFORMED (syntax, damaged metadata, unknown store).
 */
export const parseInternal = (text: string, store: StoreKind, file: string | undefined): ParsedInternal => {
    if (!STORES.includes(store)) throw nativeError('NATIVE_MALFORMED', file, `unknown store "${String(store)}"; use dotenv, yaml, json or binary`)
    let branches: Branches
    let block: unknown
    if (store === 'dotenv') {
        const doc = parseDotenv(text, file)
        branches = [doc.branch]
        block = doc.metadataBlock
    } else if (store === 'yaml') {
        const doc = parseYaml(text, file)
        branches = doc.branches
        block = doc.metadataBlock
    } else {
        const doc = parseJson(text, file)
        branches = [doc.branch]
        block = doc.metadataBlock
    }
    const metadata = readMetadata(block, file)
    if (store === 'binary') {
        const data = branches[0]?.items.find((item) => item.kind === 'entry' && item.key === 'data')
        if (!data || data.kind !== 'entry' || data.value.kind !== 'scalar' || data.value.scalar.type !== 'str') {
            throw nativeError('NATIVE_MALFORMED', file, 'a binary-store file needs a string "data" field')
        }
    }
    return { store, metadata, branches, events: walk(branches, metadata, file), file }
}

/**
 * Parses a sops file of any store without any key: metadata (recipients, lastmodified,
 * version, selection rule, mac_only_encrypted) and every value leaf in document order.
 * Comments and nulls are not leaves.
 * @throws KeyfleetError NATIVE_NOT_SOPS when the file has no sops metadata; NATIVE_MALFORMED otherwise.
 */
export const parseSopsFile = (text: string, options: { store: StoreKind; file?: string }): ParsedSopsFile => {
    const parsed = parseInternal(text, options.store, options.file)
    const leaves: SopsLeaf[] = []
    for (const event of parsed.events) {
        if (event.kind === 'value') leaves.push({ path: event.path, raw: event.node.raw, encrypted: event.encrypted, line: event.node.line })
    }
    return { store: parsed.store, metadata: parsed.metadata, leaves }
}
