/**
 * The plaintext-key scan: finds provider keys in files where they must not
 * be (source, configs, docs, a hand-edited env.secrets line) and reports
 * file and line with a hint, never the match. Runs on the change (files
 * changed against a base ref), on every tracked file, or on staged content
 * (the pre-commit hook).
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { builtinCatalog, indexCatalog, keyHint, formatHint, type Catalog, type CatalogIndex } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { parseEncValue } from '../sops/native/enc-value.js'
import type { Finding } from '../findings.js'
import { finding } from './codes.js'
import { changedFiles, showFile, stagedFiles, trackedFiles } from './git.js'
import { matchLine, prefixDetectors, type Detector, type RawMatch } from './patterns.js'
// Armor rules of age-encryption without loading it (issue 15): sops/native/age-armor.ts.
import { decodeAgeArmor } from '../sops/native/age-armor.js'
import { AGE_IDENTITY_RULE, K8S_SECRET_RULE, ageIdentities, genericTokens, plaintextSecretManifests } from './scan-rules.js'

/**
 * Put `keyfleet:allow <rule>` on a line to tell the scan the finding of that
 * rule there is a known fake (tests, docs). `<rule>` is the rule id the
 * finding names (a provider such as `openai`, or `age-identity`,
 * `generic-token`, `k8s-secret`); several may be given, comma-separated.
 * The marker silences only the rules it names: a bare marker silences nothing.
 */
export const ALLOW_MARKER = 'keyfleet:allow'
const ALLOW = /keyfleet:allow[ \t]+([a-z0-9_-]+(?:[ \t]*,[ \t]*[a-z0-9_-]+)*)/g

/** The rule ids `keyfleet:allow` markers on `line` name. */
export const allowedRules = (line: string): Set<string> => {
    const out = new Set<string>()
    for (const m of line.matchAll(ALLOW)) for (const id of (m[1] as string).split(',')) out.add(id.trim())
    return out
}

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
     * Ciphertext (well-formed `ENC[AES256_GCM,…]` values and armor blocks that decode) is skipped;
     * a line's `keyfleet:allow <rule>` silences only the rules it names.
     */
    scanText(text: string, file: string): Finding[]
}

/** Builds a {@link Scanner}: detectors compiled once, reused for every file. */
export const createScanner = (catalog: Catalog): Scanner => {
    const index = indexCatalog(catalog)
    const detectors = prefixDetectors(index)
    return { scanText: (text, file) => scanText(text, file, detectors, index) }
}

const BASE64_LINE = /^[A-Za-z0-9+/=]*$/
// One-line armor as sops dotenv/ini metadata keeps it: literal "\\n" between the base64 lines.
const INLINE_ARMOR = /-----BEGIN AGE ENCRYPTED FILE-----((?:\\n|[A-Za-z0-9+/=])*)-----END AGE ENCRYPTED FILE-----/g

/** Whether `body` lines (already trimmed) form an armored age file age itself would read. */
const decodesAsArmor = (body: readonly string[]): boolean => {
    if (!body.every((l) => BASE64_LINE.test(l))) return false
    try { decodeAgeArmor(`${ARMOR_BEGIN}\n${body.join('\n')}\n${ARMOR_END}\n`); return true } catch { return false }
}

/**
 * Line indexes inside well-formed multi-line armor blocks (BEGIN to END,
 * base64 between, decodable): ciphertext, never scanned. A stray BEGIN line
 * (no END, or anything but base64 before it) hides nothing.
 */
const armorLines = (lines: readonly string[]): Set<number> => {
    const skip = new Set<number>()
    for (let i = 0; i < lines.length; i++) {
        const begin = lines[i] as string
        if (!begin.trim().endsWith(ARMOR_BEGIN) || begin.includes(ARMOR_END)) continue
        const body: string[] = []
        let j = i + 1
        for (; j < lines.length && j < i + 100_000; j++) {
            const l = (lines[j] as string).trim()
            if (l === ARMOR_END || l.startsWith(ARMOR_END)) break
            body.push(l)
        }
        if (j >= lines.length || !decodesAsArmor(body)) continue
        for (let k = i + 1; k <= j; k++) skip.add(k)
        // The BEGIN line itself may carry a YAML key (`enc: |` is usually the line before); blank only the marker.
        i = j
    }
    return skip
}

const scanText = (text: string, file: string, detectors: readonly Detector[], index: CatalogIndex): Finding[] => {
    const findings: Finding[] = []
    const lines = text.split(/\r?\n/)
    const skip = armorLines(lines)
    lines.forEach((raw, i) => {
        if (skip.has(i)) return
        const allowed = allowedRules(raw)
        // Only well-formed ciphertext is blanked: `ENC[<key>]` is a key in a wrapper, and is scanned.
        const line = raw
            .replace(ENC_VALUE, (m) => (parseEncValue(m) ? ' '.repeat(m.length) : m))
            .replace(INLINE_ARMOR, (m, body: string) => (decodesAsArmor(body.split('\\n').filter((l) => l !== '')) ? ' '.repeat(m.length) : m))
            .replace(ARMOR_BEGIN, ' '.repeat(ARMOR_BEGIN.length))
        const matches: RawMatch[] = matchLine(line, detectors, index)
        const free = (m: RawMatch): boolean => !matches.some((o) => m.start < o.end && m.end > o.start)
        matches.push(...ageIdentities(line).filter(free))
        matches.push(...genericTokens(line).filter(free))
        for (const match of matches.sort((a, b) => a.start - b.start)) {
            if (allowed.has(match.service)) continue
            if (match.service === AGE_IDENTITY_RULE) {
                findings.push(finding('KF130', file, i + 1,
                    `plaintext age identity (AGE-SECRET-KEY-…, ${match.value.length} characters) at column ${match.start + 1} (rule ${AGE_IDENTITY_RULE}): it opens every environment encrypted to it; remove it, keep it in a secret store, and replace the identity (new key pair, \`keyfleet recipients\`) if it was ever committed or pushed`))
                continue
            }
            const spec = index.byService(match.service)
            // The detector knows the provider even when the catalog does not list it (well-known prefixes).
            const hint = formatHint({ ...keyHint(match.service, match.value), provider: match.service })
            const title = spec?.title ?? (match.service === 'generic-token' ? 'token' : match.service)
            findings.push(finding('KF130', file, i + 1,
                `plaintext ${title} key (${hint}) at column ${match.start + 1} (rule ${match.service}): remove it and store it with \`keyfleet set\`; if it was ever committed or pushed, rotate it at the provider. A known fake: mark the line \`keyfleet:allow ${match.service}\``))
        }
    })
    if (/\.(?:ya?ml)$/i.test(file)) {
        for (const line of plaintextSecretManifests(text)) {
            if (allowedRules(lines[line - 1] ?? '').has(K8S_SECRET_RULE)) continue
            findings.push(finding('KF130', file, line,
                `a Kubernetes Secret with plaintext data (rule ${K8S_SECRET_RULE}): rendered Secrets belong in the cluster, never in git; unstage it and render at deploy time (\`keyfleet render\`), and rotate its keys if it was pushed`))
        }
    }
    return findings
}

/** Whether `bytes` are an age file: binary (`age-encryption.org/v1` header) or armor age itself reads. */
const isAgeFile = (bytes: Buffer): boolean => {
    if (bytes.subarray(0, 22).toString('latin1') === 'age-encryption.org/v1\n') return true
    try { decodeAgeArmor(bytes.toString('latin1')); return true } catch { return false }
}

/** Whether content looks binary (a NUL byte early on), as git decides. */
const isBinary = (bytes: Buffer): boolean => bytes.subarray(0, 8000).includes(0)

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
    // Synchronous reads, one file at a time as before: node:fs/promises would load its readline
    // interface at start for nothing (issue 15), and a scan reads each file once, in turn.
    const fromDisk = (path: string): Promise<Buffer | undefined> => {
        try { return Promise.resolve(readFileSync(join(root, path))) } catch { return Promise.resolve(undefined) }
    }
    switch (scope.kind) {
        case 'all': files = await trackedFiles(root); read = fromDisk; break
        case 'files':
            // Files the user named must exist: a typo must not pass as "no keys found".
            // Absolute paths are allowed (resolve, not join).
            files = scope.files
            read = (path) => {
                try { return Promise.resolve(readFileSync(resolve(root, path))) } catch (cause) {
                    return Promise.reject(new KeyfleetError('FILE_NOT_READABLE', `cannot read ${path}; check the path and its permissions`, { cause, file: path }))
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
        const bytes = await read(path)
        // An age file is skipped for what it holds, never for its name: a key saved as x.age is scanned.
        if (!bytes || bytes.length > MAX_BYTES || isAgeFile(bytes) || isBinary(bytes)) continue
        findings.push(...scanner.scanText(bytes.toString('utf8'), path))
    }
    return findings
}
