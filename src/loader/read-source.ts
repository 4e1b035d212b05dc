/**
 * Reads a source path once, synchronously, into either a key map or an
 * encrypted payload still to be opened. Synchronous on purpose: sources are a
 * few small files on a local or tmpfs mount, sync reads avoid a thread-pool
 * round trip per file (the swap-to-get latency goal is 1 ms), and a read that
 * cannot interleave with other JS makes the snapshot trivially consistent.
 */
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isKeyfleetError } from '../errors.js'
import { readGenerationEntry } from './deployed.js'
import { LoaderCode, errnoOf, loaderError, systemCause } from './errors.js'
import { parseDotenv, parseJsonSource } from './parse.js'

/** Size and modification time of a single-file source, taken (fstat) right after its bytes were read. */
export interface FileStamp {
    readonly size: number
    readonly mtimeMs: number
}

/**
 * What one read of the source found. `fingerprint` identifies the content: for
 * a single file it is its exact bytes (latin1, lossless), for a directory the
 * length-prefixed name/value pairs.
 */
export type RawSource =
    | { readonly kind: 'missing' }
    | { readonly kind: 'directory'; readonly entries: Map<string, string>; readonly fingerprint: string; readonly generationEntry: string | undefined }
    | { readonly kind: 'dotenv' | 'json'; readonly entries: Map<string, string>; readonly fingerprint: string; readonly stamp: FileStamp }
    | { readonly kind: 'sops'; readonly store: 'dotenv' | 'json' | 'yaml'; readonly text: string; readonly fingerprint: string; readonly stamp: FileStamp }
    | { readonly kind: 'age-bundle'; readonly bytes: Buffer; readonly fingerprint: string; readonly stamp: FileStamp }

/** A read of a single-file source (everything but a directory or a missing path). */
export type FileSource = Extract<RawSource, { readonly stamp: FileStamp }>

/** The kinds of source the loader understands. */
export type SourceKind = Exclude<RawSource['kind'], 'missing'>

const DATA_LINK = '..data'
const MAX_ATTEMPTS = 8

// Secret-volume files are written by `kubectl create secret --from-file` and
// `echo key > file`; a trailing newline is never part of an API key.
const trimValue = (text: string): string => text.replace(/[\r\n]+$/, '')

const unreadable = (path: string, error: unknown): Error => {
    const code = errnoOf(error)
    const hint = code === 'EACCES' || code === 'EPERM'
        ? 'give the agent read permission (file mode or pod fsGroup)'
        : 'check the mount'
    return loaderError(LoaderCode.SOURCE_UNREADABLE, `cannot read ${path} (${code ?? 'error'}); ${hint}`, { file: path, cause: systemCause(error) })
}

const isGone = (error: unknown): boolean => {
    const code = errnoOf(error)
    return code === 'ENOENT' || code === 'ENOTDIR'
}

/** Reads every non-dot regular file of `dir` into a map; dot-entries (`..data`, `..2026_…`) and subdirectories are skipped. */
const readFlatDir = (dir: string): Map<string, string> => {
    const entries = new Map<string, string>()
    for (const name of readdirSync(dir).sort()) {
        if (name.startsWith('.')) continue
        let text: string
        try {
            text = readFileSync(join(dir, name), 'utf8')
        } catch (error) {
            const code = errnoOf(error)
            // A subdirectory, or a per-key link whose target vanished mid-swap: not a key.
            if (code === 'EISDIR' || code === 'ENOENT') continue
            throw error
        }
        entries.set(name, trimValue(text))
    }
    return entries
}

const readLinkOrUndefined = (link: string): string | undefined => {
    try {
        return readlinkSync(link)
    } catch {
        return undefined
    }
}

const fingerprintOf = (entries: Map<string, string>): string => {
    // Length-prefixed so that no two different maps share a fingerprint.
    let out = ''
    for (const [name, value] of entries) out += `${name.length}:${name}${value.length}:${value}`
    return out
}

/**
 * Without `..data`, a per-key link whose target is gone means the volume's
 * data vanished (the kubelet's `..data` and its directory removed, the links
 * left behind): a bad source, not a Secret with fewer keys. The kubelet's own
 * way to empty a Secret is a new, empty `..data` directory and no links.
 * @throws KeyfleetError `LOADER_SOURCE_UNREADABLE`.
 */
const assertNoDanglingLinks = (dir: string): void => {
    for (const name of readdirSync(dir)) {
        if (name.startsWith('.')) continue
        const entry = join(dir, name)
        if (lstatSync(entry, { throwIfNoEntry: false })?.isSymbolicLink() !== true) continue
        if (statSync(entry, { throwIfNoEntry: false }) === undefined) {
            throw loaderError(LoaderCode.SOURCE_UNREADABLE, `${dir}: ${name} links to data that is gone (..data vanished from the volume); keeping the last good keys — check the volume mount`, { file: dir })
        }
    }
}

/**
 * Reads a Secret-volume style directory. When the kubelet's `..data` link is
 * present the files are read from the timestamped directory it points to, and
 * the link is read again afterwards: if it moved (a swap happened mid-read) the
 * read is repeated, so the result is always one whole payload, never a mix.
 * @throws KeyfleetError `LOADER_SOURCE_UNREADABLE` (transient) when `..data` moved
 *   during every one of `MAX_ATTEMPTS` reads.
 */
const readDirectory = (path: string): { entries: Map<string, string>; generationEntry: string | undefined } => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let link: string | undefined
        try {
            link = readlinkSync(join(path, DATA_LINK))
        } catch (error) {
            if (!isGone(error) && errnoOf(error) !== 'EINVAL') throw error
        }
        if (link === undefined) {
            assertNoDanglingLinks(path)
            return { entries: readFlatDir(path), generationEntry: readGenerationEntry(path) }
        }
        try {
            const entries = readFlatDir(resolve(path, link))
            // From the same payload directory, so the claim always belongs to these keys.
            const generationEntry = readGenerationEntry(resolve(path, link))
            if (readlinkSync(join(path, DATA_LINK)) === link) return { entries, generationEntry }
        } catch (error) {
            // The old payload directory was removed under us: the swap finished, read again.
            if (!isGone(error)) throw error
            // Unless ..data still points at it: then the data vanished, nothing is being swapped in.
            if (readLinkOrUndefined(join(path, DATA_LINK)) === link && !existsSync(resolve(path, link))) {
                throw loaderError(LoaderCode.SOURCE_UNREADABLE, `${path}: ..data points to a directory that is gone; keeping the last good keys — check the volume mount`, { file: path })
            }
        }
    }
    // Never fall back to the per-key links here: under this much churn they can
    // point into two payloads at once. The store keeps its last good snapshot and retries.
    throw loaderError(LoaderCode.SOURCE_UNREADABLE, `${path}: ..data moved during each of ${MAX_ATTEMPTS} reads (the volume is being rewritten faster than it can be read); keeping the last good keys and retrying`, { file: path })
}

const SOPS_DOTENV = /^sops_(?:mac|version|lastmodified)=|^[^=\s]+=ENC\[AES256_GCM,/m
const SOPS_JSON = /"sops"\s*:|"ENC\[AES256_GCM,/
const SOPS_YAML = /^sops:|:\s*ENC\[AES256_GCM,/m
const AGE_ARMOR = '-----BEGIN AGE ENCRYPTED FILE-----'
const AGE_BINARY = 'age-encryption.org/v1\n'

const readFile = (path: string): FileSource => {
    const fd = openSync(path, 'r')
    let bytes: Buffer
    let stamp: FileStamp
    try {
        bytes = readFileSync(fd)
        // After the read: a write that lands during it moves mtime past the read.
        const stat = fstatSync(fd)
        stamp = { size: stat.size, mtimeMs: stat.mtimeMs }
    } finally {
        closeSync(fd)
    }
    const fingerprint = bytes.toString('latin1')
    const head = bytes.subarray(0, 64).toString('latin1')
    if (head.startsWith(AGE_BINARY) || head.trimStart().startsWith(AGE_ARMOR)) {
        return { kind: 'age-bundle', bytes, fingerprint, stamp }
    }
    const text = bytes.toString('utf8')
    if (text.trim() === '') {
        throw loaderError(LoaderCode.SOURCE_EMPTY, `${path} is empty (an editor mid-save?); keeping the last good keys until it has content`, { file: path })
    }
    const trimmed = text.trimStart()
    // Any SOPS trace counts, not only the MAC line: a SOPS file cut short before
    // its metadata must fail as SOPS, never be served as plaintext `ENC[…]` values.
    if (trimmed.startsWith('{')) {
        if (SOPS_JSON.test(text)) return { kind: 'sops', store: 'json', text, fingerprint, stamp }
    } else if (SOPS_DOTENV.test(text)) {
        return { kind: 'sops', store: 'dotenv', text, fingerprint, stamp }
    } else if (SOPS_YAML.test(text)) {
        return { kind: 'sops', store: 'yaml', text, fingerprint, stamp }
    }
    if (trimmed.startsWith('{')) return { kind: 'json', entries: parseJsonSource(text, path), fingerprint, stamp }
    return { kind: 'dotenv', entries: parseDotenv(text, path), fingerprint, stamp }
}

/**
 * Reads `path` once: a directory (one file per key, kubelet layout aware) or a
 * single file whose format is recognised by content (age armor or magic, SOPS
 * marker `sops_mac=` / `"sops":` / `sops:`, a JSON object, else dotenv).
 * @returns `{ kind: 'missing' }` when the path does not exist.
 * @throws KeyfleetError `LOADER_SOURCE_UNREADABLE` (EACCES …, or a Secret volume
 *   swapped during every attempt to read it), `LOADER_SOURCE_EMPTY`,
 *   `LOADER_PARSE_FAILED`.
 */
export const readSource = (path: string): RawSource => {
    try {
        const stat = statSync(path, { throwIfNoEntry: false })
        if (!stat) return { kind: 'missing' }
        if (stat.isDirectory()) {
            const { entries, generationEntry } = readDirectory(path)
            const fingerprint = fingerprintOf(entries) + (generationEntry === undefined ? '' : `\0${generationEntry}`)
            return { kind: 'directory', entries, fingerprint, generationEntry }
        }
        return readFile(path)
    } catch (error) {
        if (isKeyfleetError(error)) throw error
        if (isGone(error)) return { kind: 'missing' }
        throw unreadable(path, error)
    }
}
