/**
 * One read of a local source (file or directory), split out of store.ts: read,
 * wait for a single file to settle, decrypt, and say what the source declares
 * about its render (generation, pool weights). The store swaps the result in.
 */
import { openBundle, openSops, type BundleInfo } from './decrypt.js'
import { declared, parseGenerationEntry, type Declared } from './deployed.js'
import type { ResolvedOptions } from './options.js'
import { readSource, type RawSource, type SourceKind } from './read-source.js'
import { readSettled } from './settle.js'

/** A complete, decrypted read. */
export interface SourceRead {
    readonly status: 'read'
    readonly entries: ReadonlyMap<string, string>
    readonly kind: SourceKind
    readonly bundle: BundleInfo | undefined
    /** What the source declares (Secret `.keyfleet-generation` entry, or the bundle's payload). */
    readonly claim: Declared | undefined
    readonly fingerprint: string
}

/** What one read found: new keys, the same source as before, no source, or nothing (closed meanwhile). */
export type ReadOutcome = SourceRead | { readonly status: 'unchanged' } | { readonly status: 'missing' } | { readonly status: 'closed' }

/**
 * Reads `path` once.
 * @param held - the fingerprint of the source served now: the same source reads as `unchanged`.
 * @param pause - waits `ms` for the stability check; false once the store is closed.
 * @throws KeyfleetError from the readers and decryptors (the store keeps its last good keys).
 */
export const readLocal = async (
    path: string, options: ResolvedOptions, held: string | undefined, pause: (ms: number) => Promise<boolean>, closed: () => boolean,
): Promise<ReadOutcome> => {
    let raw: RawSource | undefined = readSource(path)
    if (raw.kind === 'missing') return { status: 'missing' }
    if (raw.fingerprint === held) return { status: 'unchanged' }
    // A single file may be mid-write (a prefix that parses): swap only once it is stable.
    if (raw.kind !== 'directory' && options.settleMs > 0) {
        raw = await readSettled(path, raw, options.settleMs, pause)
        if (raw === undefined || closed()) return { status: 'closed' }
        if (raw.kind === 'missing') return { status: 'missing' }
        if (raw.fingerprint === held) return { status: 'unchanged' }
    }
    let entries: ReadonlyMap<string, string>
    let bundle: BundleInfo | undefined
    if (raw.kind === 'sops') entries = await openSops(raw.text, raw.store, options.identity, path)
    else if (raw.kind === 'age-bundle') ({ entries, info: bundle } = await openBundle(raw.bytes, options.identity, path))
    else entries = raw.entries
    if (closed()) return { status: 'closed' }
    const claim = raw.kind === 'directory' ? parseGenerationEntry(raw.generationEntry) : bundle ? bundleClaim(bundle) : undefined
    return { status: 'read', entries, kind: raw.kind, bundle, claim, fingerprint: raw.fingerprint }
}

/** What a bundle declares about its render. */
export const bundleClaim = (info: BundleInfo): Declared => declared(info.environment, info.agent, info.generation, info.weights)
