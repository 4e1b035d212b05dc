/**
 * What most commands need first: the repository root, its catalog, and how to
 * call sops (binary, identity) — all resolved from the process environment here,
 * at the edge, and handed to the core as plain values.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { indexCatalog, loadCatalog, type Catalog, type CatalogIndex } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { CATALOG_PATH, SOPS_CONFIG_PATH } from '../repo/layout.js'
import { parseIdentityFile } from '../age/index.js'
import type { SopsIdentity, SopsOptions } from '../sops/index.js'
import { identitiesFromEnv } from '../sops/native/index.js'
import type { CliContext } from './command.js'

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
        return { ageKeyFile: path }
    }
    const fromEnv: { ageKey?: string; ageKeyFile?: string } = {}
    if (ctx.env.SOPS_AGE_KEY) fromEnv.ageKey = ctx.env.SOPS_AGE_KEY
    if (ctx.env.SOPS_AGE_KEY_FILE) fromEnv.ageKeyFile = resolve(ctx.cwd, ctx.env.SOPS_AGE_KEY_FILE)
    return fromEnv
}

/** Identity strings (for native decryption) from the same sources as {@link identityFrom}; files are read strictly. */
export const identityStrings = (identity: SopsIdentity): string[] => {
    const out: string[] = []
    // SOPS_AGE_KEY is split the way sops does it (native/identities.ts); files are read strictly.
    if (identity.ageKey) out.push(...identitiesFromEnv({ SOPS_AGE_KEY: identity.ageKey }, () => ''))
    if (identity.ageKeyFile) out.push(...parseIdentityFile(readFileSync(identity.ageKeyFile, 'utf8'), identity.ageKeyFile))
    return out
}

/**
 * Identities for native decryption: every `--identity-file` given (repeatable),
 * else SOPS_AGE_KEY / SOPS_AGE_KEY_FILE. One rule for every command that decrypts in process.
 * @throws KeyfleetError `IDENTITY_NOT_FOUND`, `AGE_BAD_IDENTITY_FILE`.
 */
export const nativeIdentities = (ctx: CliContext, identityFiles: string | readonly string[] | undefined): string[] => {
    const files = identityFiles === undefined ? [] : typeof identityFiles === 'string' ? [identityFiles] : identityFiles
    if (files.length === 0) return identityStrings(identityFrom(ctx, undefined))
    return files.flatMap((file) => identityStrings(identityFrom(ctx, file)))
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
})
