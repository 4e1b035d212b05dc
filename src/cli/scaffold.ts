/**
 * What `keyfleet init` and `keyfleet env add` share: create whatever part of
 * each environment is missing (catalog entry, `.sops.yaml` rule with a new CI
 * identity, empty env.secrets, deployment.yaml) and nothing that exists, so
 * running it twice changes nothing. New identities go to --keys-dir (0600,
 * outside the repository) or are printed once.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import { generateIdentity } from '../age/index.js'
import { KeyfleetError } from '../errors.js'
import { addCatalogEnvironment, addEnvironmentRule, emptyDeployment, encryptEmptySecrets, existingAdmins, ruleOf, starterCatalog } from '../lifecycle/environments.js'
import { writeFileAtomic } from '../repo/atomic.js'
import { CATALOG_PATH, SOPS_CONFIG_PATH, environmentPaths, listEnvironmentDirs } from '../repo/layout.js'
import type { CliContext } from './command.js'
import { sopsOptions } from './repo-context.js'
import { identityFileText } from './commands/keygen.js'

/** A new identity to hand to its owner. */
export interface NewIdentity { readonly label: string; readonly identity: string; readonly recipient: string }

/** Where new identities go. */
export interface IdentityDestination { readonly keysDir?: string; readonly print?: boolean }

const read = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined)

/** True when `path` is `root` or below it. */
export const isInside = (root: string, path: string): boolean => {
    const rel = relative(root, path)
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * Checks the destination before anything is written.
 * @throws KeyfleetError `USAGE` (none given, or inside the repository), `FILE_EXISTS`.
 */
export const checkDestination = (ctx: CliContext, root: string, dest: IdentityDestination, labels: readonly string[]): void => {
    if (!dest.keysDir && dest.print !== true) throw new KeyfleetError('USAGE', 'say where the new identities go: --keys-dir DIR (written 0600, outside the repository) or --print (shown once)')
    if (!dest.keysDir) return
    const dir = resolve(ctx.cwd, dest.keysDir)
    if (isInside(root, dir)) {
        throw new KeyfleetError('USAGE', `--keys-dir ${dest.keysDir} is inside the repository: private keys must never be one \`git add\` away from a commit. Choose a directory outside it, e.g. ~/keyfleet-keys`)
    }
    for (const label of labels) {
        if (existsSync(join(dir, `${label}.agekey`))) throw new KeyfleetError('FILE_EXISTS', `${join(dest.keysDir, `${label}.agekey`)} exists; choose another --keys-dir (or move that file away)`)
    }
}

/** Writes (or prints) the identities; call {@link checkDestination} first. */
export const deliverIdentities = (ctx: CliContext, dest: IdentityDestination, identities: readonly NewIdentity[]): void => {
    if (identities.length === 0) return
    if (dest.keysDir) {
        const dir = resolve(ctx.cwd, dest.keysDir)
        mkdirSync(dir, { recursive: true, mode: 0o700 })
        for (const s of identities) writeFileAtomic(join(dir, `${s.label}.agekey`), identityFileText(s.identity, s.recipient, `keyfleet identity: ${s.label === 'admin' ? 'admin' : `CI of ${s.label}`}`), 0o600)
        ctx.stderr.write(`wrote ${identities.length} identities to ${dest.keysDir} (mode 0600): upload each <env>.agekey as the SOPS_AGE_KEY secret of that GitHub environment\n`)
    } else {
        ctx.stderr.write('# new identities, shown once; store each where it belongs:\n')
        for (const s of identities) ctx.stdout.write(`# ${s.label}: ${s.recipient}\n${s.identity}\n`)
    }
}

/** What {@link ensureEnvironments} did, per part. */
export interface ScaffoldResult {
    /** What changed, one phrase per file, each starting with its verb (`created …`, `added … to …`). */
    readonly created: readonly string[]
    readonly identities: readonly NewIdentity[]
}

/**
 * Creates every missing part of `envs` under `root` and leaves existing ones alone.
 * @param admins - admin recipients for new rules; default: the `# admin` recipients already in
 *   `.sops.yaml`, else a newly generated admin identity.
 * @throws KeyfleetError from the yaml edits and sops; files already written stay (each is complete on its own).
 */
export const ensureEnvironments = async (
    ctx: CliContext, root: string, envs: readonly string[], admins: readonly string[], dest: IdentityDestination,
): Promise<ScaffoldResult> => {
    envs.forEach((env) => environmentPaths(env))
    const catalogPath = join(root, CATALOG_PATH)
    const configPath = join(root, SOPS_CONFIG_PATH)
    let catalog = read(catalogPath)
    let config = read(configPath)
    const needRule = envs.filter((env) => ruleOf(config, env) === undefined)
    const adminList = admins.length > 0 ? [...admins] : existingAdmins(config, [...new Set([...envs, ...knownEnvironments(root, catalog)])])
    const identities: NewIdentity[] = []
    if (needRule.length > 0) {
        const labels = [...(adminList.length === 0 ? ['admin'] : []), ...needRule]
        checkDestination(ctx, root, dest, labels)
        if (adminList.length === 0) {
            const admin = await generateIdentity()
            identities.push({ label: 'admin', ...admin })
            adminList.push(admin.recipient)
        }
        for (const env of needRule) identities.push({ label: env, ...await generateIdentity() })
    }
    // Identities first: a rule must never name a recipient whose private key was lost.
    deliverIdentities(ctx, dest, identities)
    const created: string[] = []
    for (const env of needRule) {
        config = addEnvironmentRule(config, env, (identities.find((i) => i.label === env) as NewIdentity).recipient, adminList)
    }
    // Say what happened to each file: an existing .sops.yaml or catalog was added to, not created.
    const hadConfig = existsSync(configPath)
    if (needRule.length > 0) {
        writeFileAtomic(configPath, config as string, 0o644)
        created.push(hadConfig ? `added rules for ${needRule.join(', ')} to the existing ${SOPS_CONFIG_PATH}` : `created ${SOPS_CONFIG_PATH} (rules for ${needRule.join(', ')})`)
    }
    const newCatalog = catalog === undefined ? starterCatalog(envs) : envs.reduce((text, env) => addCatalogEnvironment(text, env), catalog)
    if (newCatalog !== catalog) {
        mkdirSync(dirname(catalogPath), { recursive: true })
        writeFileAtomic(catalogPath, newCatalog, 0o644)
        created.push(catalog === undefined ? `created ${CATALOG_PATH}` : `added ${envs.join(', ')} to the environments of ${CATALOG_PATH}`)
        catalog = newCatalog
    }
    for (const env of envs) {
        const paths = environmentPaths(env)
        mkdirSync(join(root, paths.dir), { recursive: true })
        if (!existsSync(join(root, paths.secrets))) {
            writeFileAtomic(join(root, paths.secrets), await encryptEmptySecrets(env, sopsOptions(ctx, root, {})), 0o644)
            created.push(`created ${paths.secrets}`)
        }
        if (!existsSync(join(root, paths.deployment))) {
            writeFileAtomic(join(root, paths.deployment), emptyDeployment(env), 0o644)
            created.push(`created ${paths.deployment}`)
        }
    }
    return { created, identities }
}

/** Every environment the repository already names (catalog and directories): their rules' `# admin` recipients are its admins. */
const knownEnvironments = (root: string, catalog: string | undefined): string[] => {
    const listed = (catalog === undefined ? null : parseDocument(catalog).toJS()) as { environments?: unknown } | null
    const fromCatalog = Array.isArray(listed?.environments) ? listed.environments.filter((e: unknown): e is string => typeof e === 'string' && /^[a-z][a-z0-9-]*$/.test(e)) : []
    return [...new Set([...fromCatalog, ...listEnvironmentDirs(root)])]
}
