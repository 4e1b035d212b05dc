/**
 * sops 3.13's age identity lookup (age/keysource.go, loadIdentities) as a pure
 * function: core code never reads process.env, so the caller passes the
 * environment, the platform and the I/O. Every source is read; a source that
 * fails to read or parse contributes nothing and records an error, exactly as
 * sops does (so a broken SOPS_AGE_KEY_FILE beside a valid SOPS_AGE_KEY still
 * decrypts). Verified case by case against the sops binary (test/sops/native/identities.test.ts).
 */
import { bech32 } from '@scure/base'
import { GO_SPACE_CLASS } from './go-values.js'

const X25519 = /^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]+$/
const HYBRID = /^AGE-SECRET-KEY-PQ-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]+$/
/** Go's unicode.IsSpace, which bufio.ScanWords splits on (JavaScript's `\s` also holds U+FEFF; Go's does not). */
const GO_SPACE = new RegExp(`${GO_SPACE_CLASS}+`)

/**
 * age parses an identity as bech32 (upper case, no length limit): a changed character fails its
 * checksum, and sops then refuses the whole source. An X25519 key holds exactly 32 bytes.
 */
const checksumProblem = (word: string): string | undefined => {
    try {
        const { prefix, words } = bech32.decode(word.toLowerCase() as `${string}1${string}`, false)
        if (prefix === 'age-secret-key-' && bech32.fromWords(words).length !== 32) return 'malformed secret key (wrong length)'
        return undefined
    } catch {
        return 'malformed secret key (bech32 checksum)'
    }
}

/** Why one line or word is not an identity sops would accept; undefined when it is one. */
const identityProblem = (word: string): string | undefined => {
    if (word.startsWith('AGE-PLUGIN-')) return 'age plugin identities are not supported by native decryption (use sops)'
    if (X25519.test(word) || HYBRID.test(word)) return checksumProblem(word)
    return word.startsWith('AGE-SECRET-KEY-') ? 'malformed secret key' : 'unknown identity type'
}

/**
 * Identities in keys.txt text with age's grammar as sops reads it: lines split on `\n` (a trailing `\r`
 * dropped), an empty line or one starting with `#` skipped, every other line exactly one identity —
 * no indentation, no trailing spaces or words. With `multiplePerLine` (SOPS_AGE_KEY) each line is split into
 * words instead. The first bad line fails the whole text, as sops fails the whole source.
 * @returns the identities, or the problem (naming the line number, never its content).
 */
export const parseIdentityText = (text: string, multiplePerLine: boolean): { identities: string[] } | { problem: string } => {
    const identities: string[] = []
    const lines = text.split('\n')
    if (lines[lines.length - 1] === '') lines.pop()
    for (let i = 0; i < lines.length; i++) {
        const line = (lines[i] as string).replace(/\r$/, '')
        if (line === '' || line.startsWith('#')) continue
        const words = multiplePerLine ? line.split(GO_SPACE).filter((w) => w !== '') : [line]
        for (const word of words) {
            const problem = identityProblem(word)
            if (problem) return { problem: `line ${i + 1}: ${problem}` }
            identities.push(word)
        }
    }
    return { identities }
}

/** Lenient reader kept for the shared vectors' keys.txt files (sops-written, so always well-formed). */
export const identitiesFromText = (text: string): string[] => {
    const parsed = parseIdentityText(text, false)
    if ('problem' in parsed) throw new Error(`not an age identity file (${parsed.problem})`)
    return parsed.identities
}

/** What reading one source did. */
export type SourceOutcome = { readonly text: string } | { readonly missing: true } | { readonly error: string }

/** The I/O and platform facts the lookup needs. */
export interface IdentityLookupIo {
    readonly platform: NodeJS.Platform
    /** Reads a file as UTF-8: missing → `{ missing }`, a directory → `{ text: '' }` (sops reads nothing from it), else `{ error }`. */
    readonly readFile: (path: string) => SourceOutcome
    /** Runs SOPS_AGE_KEY_CMD (split like a shell word list, no shell) and returns its stdout. */
    readonly runCommand: (command: string) => SourceOutcome
    readonly join: (...parts: string[]) => string
    readonly isAbsolute: (path: string) => boolean
}

/** Where the lookup found identities, where it looked in vain, and what went wrong. */
export interface IdentityLookup {
    readonly identities: string[]
    /** Sources that gave at least one identity (`SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE (path)`, a default path). */
    readonly used: string[]
    /** Sources looked at that held nothing. */
    readonly unused: string[]
    /** Sources that failed, with the reason (never file content). */
    readonly errors: string[]
}

/** sops' user config directory: os.UserConfigDir, except that on macOS XDG_CONFIG_HOME wins when set. */
export const userConfigDir = (env: Readonly<Record<string, string | undefined>>, io: Pick<IdentityLookupIo, 'platform' | 'join' | 'isAbsolute'>): { dir: string } | { error: string } => {
    if (io.platform === 'win32') return env.APPDATA ? { dir: env.APPDATA } : { error: '%AppData% is not defined' }
    if (io.platform === 'darwin') {
        if (env.XDG_CONFIG_HOME) return { dir: env.XDG_CONFIG_HOME }
        return env.HOME ? { dir: io.join(env.HOME, 'Library', 'Application Support') } : { error: '$HOME is not defined' }
    }
    const xdg = env.XDG_CONFIG_HOME
    if (xdg) return io.isAbsolute(xdg) ? { dir: xdg } : { error: 'path in $XDG_CONFIG_HOME is relative' }
    return env.HOME ? { dir: io.join(env.HOME, '.config') } : { error: 'neither $XDG_CONFIG_HOME nor $HOME are defined' }
}

/**
 * Looks for age identities where sops 3.13 does: SOPS_AGE_KEY (several per line), SOPS_AGE_KEY_FILE,
 * SOPS_AGE_KEY_CMD, then `<user config dir>/sops/age/keys.txt` (read in addition when it exists).
 * SSH identities (SOPS_AGE_SSH_PRIVATE_KEY_FILE/CMD, ~/.ssh/id_*) are not supported natively; a set
 * SSH variable is reported as an error so that the failure message says why.
 * Duplicates are removed; nothing here throws.
 */
export const lookupIdentities = (env: Readonly<Record<string, string | undefined>>, io: IdentityLookupIo): IdentityLookup => {
    const identities: string[] = []
    const used: string[] = []
    const unused: string[] = []
    const errors: string[] = []
    let readers = 0
    const take = (location: string, outcome: SourceOutcome, multiplePerLine: boolean): void => {
        if ('error' in outcome) { errors.push(`${location}: ${outcome.error}`); return }
        if ('missing' in outcome) { errors.push(`${location}: no such file`); return }
        readers++
        const parsed = parseIdentityText(outcome.text, multiplePerLine)
        if ('problem' in parsed) { errors.push(`${location}: ${parsed.problem}`); return }
        if (parsed.identities.length === 0) { unused.push(location); return }
        used.push(location)
        identities.push(...parsed.identities)
    }
    for (const name of ['SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_SSH_PRIVATE_KEY_CMD']) {
        if (env[name] !== undefined) errors.push(`${name}: SSH identities are not supported by native decryption (use sops)`)
    }
    if (env.SOPS_AGE_KEY !== undefined) take('SOPS_AGE_KEY', { text: env.SOPS_AGE_KEY }, true)
    else unused.push('SOPS_AGE_KEY')
    const file = env.SOPS_AGE_KEY_FILE
    if (file !== undefined) take(`SOPS_AGE_KEY_FILE (${file})`, io.readFile(file), false)
    else unused.push('SOPS_AGE_KEY_FILE')
    if (env.SOPS_AGE_KEY_CMD !== undefined) take('SOPS_AGE_KEY_CMD', io.runCommand(env.SOPS_AGE_KEY_CMD), false)
    else unused.push('SOPS_AGE_KEY_CMD')
    const config = userConfigDir(env, io)
    if ('error' in config) {
        if (readers === 0) errors.push(`user config directory could not be determined: ${config.error}`)
    } else {
        const path = io.join(config.dir, 'sops', 'age', 'keys.txt')
        const outcome = io.readFile(path)
        if ('missing' in outcome) { if (readers === 0) unused.push(path) } else take(path, outcome, false)
    }
    return { identities: [...new Set(identities)], used, unused, errors }
}

/**
 * The old entry point: SOPS_AGE_KEY then SOPS_AGE_KEY_FILE only, strict grammar.
 * @param readFile - reads a file as UTF-8; its errors propagate.
 * @throws Error naming the source and line (never the content) when a source is malformed.
 */
export const identitiesFromEnv = (env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string): string[] => {
    const found: string[] = []
    const add = (location: string, text: string, multiple: boolean): void => {
        const parsed = parseIdentityText(text, multiple)
        if ('problem' in parsed) throw new Error(`${location}: ${parsed.problem}`)
        found.push(...parsed.identities)
    }
    if (env.SOPS_AGE_KEY) add('SOPS_AGE_KEY', env.SOPS_AGE_KEY, true)
    if (env.SOPS_AGE_KEY_FILE) add('SOPS_AGE_KEY_FILE', readFile(env.SOPS_AGE_KEY_FILE), false)
    return [...new Set(found)]
}
