/**
 * The plaintext-key scan: finds provider keys in files where they must not
 * be (source, configs, docs, a hand-edited env.secrets line) and reports
 * file and line with a hint, never the match. Runs on the change (files
 * changed against a base ref), on every tracked file, or on staged content
 * (the pre-commit hook).
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { builtinCatalog, indexCatalog, keyHint, formatHint, type Catalog, type CatalogIndex } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { parseEncValue } from '../sops/native/enc-value.js'
import type { Finding } from '../findings.js'
import { finding } from './codes.js'
import { changedFiles, showFile, stagedFiles, trackedFiles } from './git.js'
import { matchLine, prefixDetectors, type Detector } from './patterns.js'

/** Put this on a line to tell the scan the key there is a known fake (tests, docs). */
export const ALLOW_MARKER = 'keyfleet:allow'

/** Which files to scan. */
export type ScanScope =
    | { readonly kind: 'all' }
    | { readonly kind: 'changed'; readonly base: string; readonly head?: string }
    | { readonly kind: 'staged' }
    | { readonly kind: 'files'; readonly files: readonly string[] }

/** Options of {@link scanForPlaintextKeys}. */
export interface ScanOptions {
    /** Repository root (git work tree). */
    readonly root: string
    readonly scope: ScanScope
    /** Catalog whose format rules and names drive the detectors; the built-in one by default. */
    readonly catalog?: Catalog
}

const MAX_BYTES = 20 * 1024 * 1024
const ENC_VALUE = /ENC\[[^\]]*\]/g
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----'

/** A prepared scanner for one catalog. */
export interface Scanner {
    /**
     * Findings (KF130) for `text`, reported against `file`. Never throws.
     * Ciphertext (well-formed `ENC[AES256_GCM,…]` values and armored age blocks) is skipped.
     */
    scanText(text: string, file: string): Finding[]
}

/** Builds a {@link Scanner}: detectors compiled once, reused for every file. */
export const createScanner = (catalog: Catalog): Scanner => {
    const index = indexCatalog(catalog)
    const detectors = prefixDetectors(index)
    return { scanText: (text, file) => scanText(text, file, detectors, index) }
}

const scanText = (text: string, file: string, detectors: readonly Detector[], index: CatalogIndex): Finding[] => {
    const findings: Finding[] = []
    let inArmor = false
    text.split(/\r?\n/).forEach((raw, i) => {
        // sops dotenv/ini metadata keeps armored blocks on one line with literal \n; yaml/json spread them out.
        if (raw.includes(ARMOR_BEGIN)) inArmor = !raw.includes(ARMOR_END)
        else if (inArmor) { if (raw.includes(ARMOR_END)) inArmor = false; return }
        if (raw.includes(ARMOR_BEGIN) || raw.includes(ALLOW_MARKER)) return
        // Only well-formed ciphertext is blanked: `ENC[<key>]` is a key in a wrapper, and is scanned.
        const line = raw.replace(ENC_VALUE, (m) => (parseEncValue(m) ? ' '.repeat(m.length) : m))
        for (const match of matchLine(line, detectors, index)) {
            const spec = index.byService(match.service)
            // The detector knows the provider even when the catalog does not list it (well-known prefixes).
            const hint = formatHint({ ...keyHint(match.service, match.value), provider: match.service })
            const title = spec?.title ?? match.service
            findings.push(finding('KF130', file, i + 1,
                `plaintext ${title} key (${hint}) at column ${match.start + 1}: remove it and store it with \`keyfleet set\`; if it was ever committed or pushed, rotate it at the provider`))
        }
    })
    return findings
}

/** Whether content looks binary (a NUL byte early on), as git decides. */
const isBinary = (bytes: Buffer): boolean => bytes.subarray(0, 8000).includes(0)

/** Files never scanned: age ciphertexts. */
const skipPath = (path: string): boolean => path.endsWith('.age')

/**
 * Scans the files `scope` selects for plaintext provider keys.
 * @returns KF130 findings, sorted by file and line; each names file, line and a hint, never the key.
 * @throws KeyfleetError `GIT_FAILED` / `GIT_MISSING` when git cannot list or read the files;
 *   `FILE_NOT_READABLE` when a file named in a `files` scope cannot be read (missing, a directory).
 */
export const scanForPlaintextKeys = async (options: ScanOptions): Promise<Finding[]> => {
    const { root, scope } = options
    const scanner = createScanner(options.catalog ?? builtinCatalog)
    let files: readonly string[]
    let read: (path: string) => Promise<Buffer | undefined>
    const fromDisk = async (path: string): Promise<Buffer | undefined> => {
        try { return await readFile(join(root, path)) } catch { return undefined }
    }
    switch (scope.kind) {
        case 'all': files = await trackedFiles(root); read = fromDisk; break
        case 'files':
            // Files the user named must exist: a typo must not pass as "no keys found".
            // Absolute paths are allowed (resolve, not join).
            files = scope.files
            read = async (path) => {
                try { return await readFile(resolve(root, path)) } catch (cause) {
                    throw new KeyfleetError('FILE_NOT_READABLE', `cannot read ${path}; check the path and its permissions`, { cause, file: path })
                }
            }
            break
        case 'staged': files = await stagedFiles(root); read = (path) => showFile(root, '', path); break
        case 'changed': {
            files = await changedFiles(root, scope.base, scope.head)
            const head = scope.head
            read = head === undefined ? fromDisk : (path) => showFile(root, head, path)
            break
        }
    }
    const findings: Finding[] = []
    for (const path of files) {
        if (skipPath(path)) continue
        const bytes = await read(path)
        if (!bytes || bytes.length > MAX_BYTES || isBinary(bytes)) continue
        findings.push(...scanner.scanText(bytes.toString('utf8'), path))
    }
    return findings
}
