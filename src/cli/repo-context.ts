/**
 * What most commands need first: the repository root, its catalog, and how to
 * call sops (binary, identity) — all resolved from the process environment here,
 * at the edge, and handed to the core as plain values.
 *
 * Start-up budget (issue 15): nearly every command imports this file, so it imports only
 * light modules statically. The in-process decryptor (and with it age-encryption) loads on
 * the first {@link decryptNative}; `ls`, `registry` and `scan` never reach it.
 * test/cli/chunks.test.ts checks what each command's chunk graph holds.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs'
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { loadCatalog } from '../catalog/parse.js'
import { indexCatalog, type CatalogIndex } from '../catalog/resolve.js'
import type { Catalog } from '../catalog/types.js'
import { KeyfleetError } from '../errors.js'
import { CATALOG_PATH, SOPS_CONFIG_PATH } from '../repo/layout.js'
import { parseIdentityFile } from '../age/identity-file.js'
import type { SopsIdentity, SopsOptions } from '../sops/index.js'
import type { decryptSopsFile } from '../sops/native/decrypt.js'
import { lookupIdentities, parseIdentityText, type IdentityLookup, type SourceOutcome } from '../sops/native/identities.js'
import type { DecryptedFile } from '../sops/native/types.js'
import type { CliContext } from './command.js'
import { sshGap, sshSources, sopsIdentitySources } from './identity-sources.js'

/** The repository a command works on. */
export interface RepoContext {
    readonly root: string
    readonly catalog: Catalog
    readonly index: CatalogIndex
}

/**
 * Walks up from `cwd` to the directory holding `.sops.yaml` or the catalog.
 * @throws KeyfleetError `REPO_NOT_FOUND`.
 */
export const findRepoRoot = (cwd: string): string => {
    let dir = resolve(cwd)
    for (;;) {
        if (existsSync(join(dir, CATALOG_PATH)) || existsSync(join(dir, SOPS_CONFIG_PATH))) return dir
        const parent = dirname(dir)
        if (parent === dir) {
            throw new KeyfleetError('REPO_NOT_FOUND', `no keyfleet repository here (looked for ${CATALOG_PATH} or ${SOPS_CONFIG_PATH} in ${cwd} and its parents); cd into your repository or run \`keyfleet init\``)
        }
        dir = parent
    }
}

/**
 * The one repository root rule (docs/repository.md): `--root DIR` when given (it must hold the markers),
 * else the nearest directory at or above the working directory holding `.sops.yaml` or the catalog.
 * @throws KeyfleetError `REPO_NOT_FOUND`, the same code for every command.
 */
export const repoRootFor = (ctx: CliContext, rootOption?: unknown): string => {
    if (typeof rootOption !== 'string') return findRepoRoot(ctx.cwd)
    const dir = resolve(ctx.cwd, rootOption)
    if (existsSync(join(dir, CATALOG_PATH)) || existsSync(join(dir, SOPS_CONFIG_PATH))) return dir
    throw new KeyfleetError('REPO_NOT_FOUND', `--root ${rootOption} is not a keyfleet repository (it holds neither ${CATALOG_PATH} nor ${SOPS_CONFIG_PATH}); omit --root to search upwards from the working directory`)
}

/** Finds the root and loads its catalog (`environments/keyfleet.yaml`). */
export const openRepo = (ctx: CliContext): RepoContext => {
    const root = findRepoRoot(ctx.cwd)
    const catalog = loadCatalog(join(root, CATALOG_PATH))
    return { root, catalog, index: indexCatalog(catalog) }
}

/** Identity from `--identity-file`, else SOPS_AGE_KEY / SOPS_AGE_KEY_FILE (as sops reads them). */
export const identityFrom = (ctx: CliContext, identityFile: string | undefined): SopsIdentity => {
    if (identityFile) {
        const path = isAbsolute(identityFile) ? identityFile : resolve(ctx.cwd, identityFile)
        if (!existsSync(path)) throw new KeyfleetError('IDENTITY_NOT_FOUND', `identity file ${identityFile} does not exist`)
        if (!statSync(path).isFile()) throw new KeyfleetError('IDENTITY_NOT_FOUND', `identity file ${identityFile} is not a regular file; pass the path of a keys.txt-style file (keyfleet keygen writes one)`)
        return { ageKeyFile: path }
    }
    const fromEnv: { ageKey?: string; ageKeyFile?: string; ageKeyCmd?: string } = {}
    if (ctx.env.SOPS_AGE_KEY) fromEnv.ageKey = ctx.env.SOPS_AGE_KEY
    if (ctx.env.SOPS_AGE_KEY_CMD) fromEnv.ageKeyCmd = ctx.env.SOPS_AGE_KEY_CMD
    if (ctx.env.SOPS_AGE_KEY_FILE) fromEnv.ageKeyFile = resolve(ctx.cwd, ctx.env.SOPS_AGE_KEY_FILE)
    return fromEnv
}

/** Identity strings (for native decryption) from the same sources as {@link identityFrom}; files are read strictly. */
export const identityStrings = (identity: SopsIdentity): string[] => {
    const out: string[] = []
    // SOPS_AGE_KEY is split the way sops does it (native/identities.ts); files are read strictly.
    if (identity.ageKey) {
        const parsed = parseIdentityText(identity.ageKey, true)
        if ('problem' in parsed) throw new KeyfleetError('AGE_BAD_IDENTITY_FILE', `SOPS_AGE_KEY ${parsed.problem}: expected AGE-SECRET-KEY-1… words (sops refuses this too)`, { file: 'SOPS_AGE_KEY' })
        out.push(...parsed.identities)
    }
    if (identity.ageKeyFile) out.push(...parseIdentityFile(readFileSync(identity.ageKeyFile, 'utf8'), identity.ageKeyFile))
    return out
}

// Where each list returned by nativeIdentities came from, so that a failure can say which identities were tried.
const sourcesOf = new WeakMap<readonly string[], { sources: string[]; ssh: string[] }>()

/**
 * {@link decryptSopsFile} that, when no identity opens the file, says where the identities tried came from
 * (and which SSH identities sops would also have tried, which keyfleet does not read).
 * @throws what decryptSopsFile throws; NATIVE_NO_MATCHING_IDENTITY gains "identities tried: …".
 */
export const decryptNative = async (text: string, options: Parameters<typeof decryptSopsFile>[1]): Promise<DecryptedFile> => {
    try {
        // Loaded here, not at the top: age-encryption alone costs about as much as node's own start.
        const { decryptSopsFile: decrypt } = await import('../sops/native/decrypt.js')
        return await decrypt(text, options)
    } catch (error) {
        const tried = sourcesOf.get(options.identities)
        if (!(error instanceof KeyfleetError) || error.code !== 'NATIVE_NO_MATCHING_IDENTITY' || !tried) throw error
        throw new KeyfleetError(error.code, `${error.message} (identities tried: ${tried.sources.join(', ')}).${sshGap(tried.ssh)}`, { cause: error, ...(options.file ? { file: options.file } : {}) })
    }
}

/** Reads one identity source for {@link lookupIdentities}: missing, a directory (sops reads nothing from it) or text. */
const readSource = (path: string): SourceOutcome => {
    try {
        if (statSync(path).isDirectory()) return { text: '' }
        return { text: readFileSync(path, 'utf8') }
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        return code === 'ENOENT' ? { missing: true } : { error: `cannot read (${code ?? 'error'})` }
    }
}

/** SOPS_AGE_KEY_CMD as sops runs it: split into words (shlex-style quotes), no shell, stdout captured. */
const runKeyCommand = (ctx: CliContext) => (command: string): SourceOutcome => {
    const words = [...command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|((?:[^\s"'\\]|\\.)+)/g)].map((m) => (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'))
    if (words.length === 0) return { error: 'empty command' }
    // node:child_process loads here, not at import: every command imports this file and few set SOPS_AGE_KEY_CMD.
    const { execFileSync } = process.getBuiltinModule('node:child_process')
    try {
        return { text: execFileSync(words[0] as string, words.slice(1), { env: { ...ctx.env }, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 60_000 }) }
    } catch {
        return { error: 'the command failed' }
    }
}

/**
 * Identities for native decryption: every `--identity-file` given (repeatable, read with age's grammar),
 * else every place sops 3.13 looks (native/identities.ts). One rule for every command that decrypts in process.
 * @throws KeyfleetError `NATIVE_NO_IDENTITY` (exit 3, like a decryption failure) naming every place looked at and why each failed, `AGE_BAD_IDENTITY_FILE`.
 */
export const nativeIdentities = (ctx: CliContext, identityFiles: string | readonly string[] | undefined): string[] => {
    const files = identityFiles === undefined ? [] : typeof identityFiles === 'string' ? [identityFiles] : identityFiles
    if (files.length > 0) {
        const fromFiles = files.flatMap((file) => identityStrings(identityFrom(ctx, file)))
        sourcesOf.set(fromFiles, { sources: files.map((file) => `--identity-file ${file}`), ssh: [] })
        return fromFiles
    }
    const found = sopsIdentityLookup(ctx)
    const ssh = sshSources(ctx)
    if (found.identities.length > 0) {
        sourcesOf.set(found.identities, { sources: [...found.used, ...found.errors.filter((e) => !isSshError(e)).map((e) => `(${e})`)], ssh })
        return found.identities
    }
    throw noIdentityError(found, ssh)
}

// The native lookup's own note on a set SSH variable; sshGap says it better.
const isSshError = (error: string): boolean => error.startsWith('SOPS_AGE_SSH_')

/** Every place sops 3.13 looks for identities, read with this process's environment and platform. */
export const sopsIdentityLookup = (ctx: CliContext): IdentityLookup => {
    const env = { ...ctx.env }
    if (env.SOPS_AGE_KEY_FILE) env.SOPS_AGE_KEY_FILE = resolve(ctx.cwd, env.SOPS_AGE_KEY_FILE)
    return lookupIdentities(env, { platform: process.platform, readFile: readSource, runCommand: runKeyCommand(ctx), join, isAbsolute })
}

/**
 * `NATIVE_NO_IDENTITY` naming every place looked at and what was wrong with each (never file content);
 * `NATIVE_SSH_IDENTITY_UNSUPPORTED` when an SSH identity (`ssh`, from {@link sshSources}) is all there is.
 */
export const noIdentityError = (found: IdentityLookup, ssh: readonly string[] = []): KeyfleetError => {
    const problems = found.errors.filter((e) => !isSshError(e))
    const errors = problems.length > 0 ? ` Problems: ${problems.join('; ')}.` : ''
    const looked = [...found.unused, ...problems.map((e) => e.split(':')[0] as string)].join(', ')
    if (ssh.length > 0) return new KeyfleetError('NATIVE_SSH_IDENTITY_UNSUPPORTED', `no age identity found (looked where sops does: ${looked}).${errors}${sshGap(ssh)}`)
    return new KeyfleetError('NATIVE_NO_IDENTITY', `no age identity found (looked where sops does: ${looked}).${errors} Pass --identity-file, set SOPS_AGE_KEY or SOPS_AGE_KEY_FILE, or put your key in the sops user config keys.txt`)
}

/**
 * The sops binary, looked up the way scripts/ensure-tools.sh installs it:
 * $KEYFLEET_SOPS, then PATH, then the repository's .tools/bin, then Go's bin
 * directory. Falls back to plain `sops` (which then fails with SOPS_MISSING).
 */
export const locateSops = (ctx: CliContext, root: string): string => {
    if (ctx.env.KEYFLEET_SOPS) return ctx.env.KEYFLEET_SOPS
    const candidates = [
        ...(ctx.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'sops')),
        join(root, '.tools', 'bin', 'sops'),
        ...(ctx.env.GOPATH ? [join(ctx.env.GOPATH, 'bin', 'sops')] : []),
        ...(ctx.env.HOME ? [join(ctx.env.HOME, 'go', 'bin', 'sops')] : []),
    ]
    for (const candidate of candidates) {
        try {
            accessSync(candidate, constants.X_OK)
            return candidate
        } catch {
            // not here; try the next place
        }
    }
    return 'sops'
}

/** sops options for `root`: the located binary, the child's PATH/HOME, and the identity. */
export const sopsOptions = (ctx: CliContext, root: string, identity: SopsIdentity): SopsOptions => ({
    cwd: root,
    sopsPath: locateSops(ctx, root),
    identity,
    ...(ctx.env.PATH ? { pathEnv: ctx.env.PATH } : {}),
    ...(ctx.env.HOME ? { home: ctx.env.HOME } : {}),
    // sops' default keys.txt is under XDG_CONFIG_HOME when set (and ~/.config otherwise, via HOME).
    ...(ctx.env.XDG_CONFIG_HOME ? { configHome: ctx.env.XDG_CONFIG_HOME } : {}),
    identitySources: sopsIdentitySources(ctx, identity),
})
