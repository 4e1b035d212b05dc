/**
 * The pull-request change report: per environment, which names were added,
 * removed, changed, re-encrypted or left alone, which recipients came and
 * went, and whether only metadata moved. Key-less by default; with an
 * environment's identity, each added or changed key also gets a hint
 * (provider, length, last four) and nothing more.
 *
 * Key-less, a new ciphertext means a new value, except after a data-key
 * rotation (`sops rotate`): then every value has a new ciphertext whether it
 * changed or not, so those names are reported `reencrypted` (not compared),
 * never as unchanged and never as changed. Only a keyed report can tell.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { builtinCatalog, formatHint, indexCatalog, keyHint, parseCatalog, type Catalog, type CatalogIndex } from '../catalog/index.js'
import { isKeyfleetError } from '../errors.js'
import { parseSopsFile } from '../sops/native/parse.js'
import type { ParsedSopsFile } from '../sops/native/types.js'
import { catalogChanges } from './catalog-change.js'
import { storedNameFor } from '../render/regions.js'
import { readDeployment } from './deployment.js'
import { filesAtRef, resolveRef, showFile } from './git.js'
import { decryptEnv } from './keyed.js'
import { CATALOG_PATH, deploymentPath } from './repository.js'

/** What happened to the env.secrets file as a whole. */
export type FileStatus = 'added' | 'removed' | 'modified' | 'unchanged'

/**
 * What happened to one name:
 * - `changed`: keyed, the value differs; key-less, the ciphertext changed while the data key stayed.
 * - `reencrypted`: key-less, the data key was rotated, so the value could not be compared.
 * - `reencrypted-same-value`: keyed, a new ciphertext of the same value.
 */
export type NameStatus = 'added' | 'removed' | 'changed' | 'reencrypted' | 'reencrypted-same-value' | 'unchanged'

/** The change of one environment between base and head. Names and public recipients only. */
export interface EnvChange {
    readonly env: string
    /** Repo-relative path of env.secrets. */
    readonly file: string
    readonly status: FileStatus
    readonly added: readonly string[]
    readonly removed: readonly string[]
    /**
     * Names whose value changed (keyed: compared; key-less: the ciphertext changed
     * while the data key stayed). Never a name of {@link EnvChange.reencrypted}.
     */
    readonly changed: readonly string[]
    readonly unchanged: readonly string[]
    readonly recipientsAdded: readonly string[]
    readonly recipientsRemoved: readonly string[]
    /**
     * The file changed and no value did, as far as can be proven: a re-wrap, a new
     * `lastmodified`/`mac`, or (keyed only) a data-key rotation. False key-less after a rotation.
     */
    readonly metadataOnly: boolean
    /** Every value kept its name but got a new ciphertext and the age stanzas changed: the data key was rotated (`sops rotate`). */
    readonly dataKeyRotated: boolean
    /**
     * Names with a new ciphertext that are not counted as changed: keyed, the value is
     * the same; key-less, the data key was rotated and the value was not compared (see
     * {@link EnvChange.statuses}). The deploy job's keyed report compares them.
     */
    readonly reencrypted: readonly string[]
    /** Every name of base and head with its {@link NameStatus}, in the order added, changed, re-encrypted, removed, unchanged. */
    readonly statuses: Readonly<Record<string, NameStatus>>
    /** Keyed only: hint (`openai, 51 chars, …wxyz`) for each added or really changed name. */
    readonly hints: Readonly<Record<string, string>>
    /** Whether the identity of this environment was used. */
    readonly keyed: boolean
    /** Why the keyed part could not run (code and safe message), when an identity was given. */
    readonly keyedError?: string
    /** Agents of deployment.yaml that read an added, removed or changed key (not a re-encrypted one). */
    readonly agentsAffected: readonly string[]
    /** The region of each affected agent that has one (issue 18): a change of `NAME__EU` touches only `eu` agents. */
    readonly agentRegions?: Readonly<Record<string, string>>
    /** Key-less parse problem with either version (KF100 message), when there was one. */
    readonly parseError?: string
}

/** The whole report. */
export interface ChangeReport {
    readonly base: string
    /** `working tree` when no head ref was given. */
    readonly head: string
    readonly baseCommit: string
    readonly headCommit: string | undefined
    /** Environments whose env.secrets exists at base or head, sorted by the catalog's order. */
    readonly environments: readonly EnvChange[]
    /** What changed in environments/keyfleet.yaml, one line each; absent when its text is identical. */
    readonly catalog?: readonly string[]
}

/** Options of {@link changeReport}. */
export interface ChangeReportOptions {
    /** Repository root (git work tree). */
    readonly root: string
    /** Base git ref, e.g. `origin/main`. */
    readonly base: string
    /** Head git ref; default: the working tree. */
    readonly head?: string
    /** Environment → age identities; gives hints for that environment. */
    readonly identities?: Readonly<Record<string, readonly string[]>>
}

const SECRETS = /^environments\/([^/]+)\/env\.secrets$/

/**
 * Builds the change report between `base` and `head`.
 * @throws KeyfleetError `GIT_FAILED` naming a ref that does not exist, `GIT_MISSING` without git.
 */
export const changeReport = async (options: ChangeReportOptions): Promise<ChangeReport> => {
    const { root, base, head, identities = {} } = options
    const baseCommit = await resolveRef(root, base)
    const headCommit = head === undefined ? undefined : await resolveRef(root, head)
    const readHead = async (path: string): Promise<string | undefined> => {
        if (head !== undefined) return (await showFile(root, head, path))?.toString('utf8')
        return existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : undefined
    }
    const readBase = async (path: string): Promise<string | undefined> => (await showFile(root, base, path))?.toString('utf8')
    const catalogText = await readHead(CATALOG_PATH)
    const catalog = catalogFrom(catalogText)
    const catalogLines = catalogChanges(await readBase(CATALOG_PATH), catalogText, CATALOG_PATH)
    const index = indexCatalog(catalog)
    const envs = new Set<string>()
    for (const path of await filesAtRef(root, base, 'environments')) addEnv(envs, path)
    if (head !== undefined) for (const path of await filesAtRef(root, head, 'environments')) addEnv(envs, path)
    else if (existsSync(join(root, 'environments'))) {
        for (const e of readdirSync(join(root, 'environments'))) addEnv(envs, `environments/${e}/env.secrets`, existsSync(join(root, 'environments', e, 'env.secrets')))
    }
    const order = (env: string): number => { const i = catalog.environments.indexOf(env); return i < 0 ? Number.MAX_SAFE_INTEGER : i }
    const sorted = [...envs].sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    const environments: EnvChange[] = []
    for (const env of sorted) {
        const file = `environments/${env}/env.secrets`
        const before = await readBase(file)
        const after = await readHead(file)
        const change = await compareEnv(env, file, before, after, identities[env], index)
        const deployment = (await readHead(deploymentPath(env))) ?? (await readBase(deploymentPath(env)))
        const touched = new Set([...change.added, ...change.removed, ...change.changed].map((n) => index.resolve(n)?.name ?? n))
        let agentsAffected: string[] = []
        const agentRegions: Record<string, string> = {}
        if (deployment !== undefined && touched.size > 0) {
            const read = await readDeployment(deployment, deploymentPath(env), env, catalog)
            // What each agent reads at base and at head: a regional agent reads its variant (or, with fallback, the global key).
            const atHead = new Set([...change.added, ...change.changed, ...change.reencrypted, ...change.unchanged])
            const atBase = new Set([...change.removed, ...change.changed, ...change.reencrypted, ...change.unchanged])
            const reads = (a: { region?: string }, k: string, names: Set<string>): string | undefined =>
                storedNameFor(index.resolve(k)?.name ?? k, a.region, read.fallback, (n) => names.has(n))
            const affected = read.agents.filter((a) => a.keys.some((k) => [reads(a, k, atHead), reads(a, k, atBase)].some((n) => n !== undefined && touched.has(n))))
            agentsAffected = affected.map((a) => a.name)
            for (const a of affected) if (a.region !== undefined) agentRegions[a.name] = a.region
        }
        environments.push({ ...change, agentsAffected, ...(Object.keys(agentRegions).length > 0 ? { agentRegions } : {}) })
    }
    return { base, head: head ?? 'working tree', baseCommit, headCommit, environments, ...(catalogLines ? { catalog: catalogLines } : {}) }
}

const addEnv = (envs: Set<string>, path: string, exists = true): void => {
    const m = SECRETS.exec(path)
    if (m && exists) envs.add(m[1] as string)
}

const catalogFrom = (text: string | undefined): Catalog => {
    if (text === undefined) return builtinCatalog
    return parseCatalog(text, CATALOG_PATH).catalog ?? builtinCatalog
}

const tryParse = (text: string | undefined, file: string): { parsed?: ParsedSopsFile; error?: string } => {
    if (text === undefined) return {}
    try {
        return { parsed: parseSopsFile(text, { store: 'dotenv', file }) }
    } catch (error) {
        return { error: isKeyfleetError(error) ? error.message : `${file} could not be parsed` }
    }
}

/** The age stanzas (recipient and wrapped data key) as one comparable string. */
const stanzasOf = (parsed: ParsedSopsFile | undefined): string =>
    JSON.stringify((parsed?.metadata.age ?? []).map((a) => [a.recipient, a.enc]).sort())

const valuesOf = (parsed: ParsedSopsFile | undefined): Map<string, string> =>
    new Map((parsed?.leaves ?? []).map((leaf) => [leaf.path.join('.'), leaf.raw]))

/** Compares two versions of one env.secrets. Exported for tests; never throws for bad content. */
export const compareEnv = async (
    env: string, file: string, before: string | undefined, after: string | undefined,
    identities: readonly string[] | undefined, index: CatalogIndex,
): Promise<Omit<EnvChange, 'agentsAffected'>> => {
    const status: FileStatus = before === undefined ? 'added' : after === undefined ? 'removed' : before === after ? 'unchanged' : 'modified'
    const old = tryParse(before, file)
    const neu = tryParse(after, file)
    const oldValues = valuesOf(old.parsed)
    const newValues = valuesOf(neu.parsed)
    const added = [...newValues.keys()].filter((n) => !oldValues.has(n))
    const removed = [...oldValues.keys()].filter((n) => !newValues.has(n))
    const common = [...newValues.keys()].filter((n) => oldValues.has(n))
    const newCiphertext = common.filter((n) => oldValues.get(n) !== newValues.get(n))
    const unchanged = common.filter((n) => oldValues.get(n) === newValues.get(n))
    const oldRecipients = new Set(old.parsed?.metadata.age.map((a) => a.recipient) ?? [])
    const newRecipients = new Set(neu.parsed?.metadata.age.map((a) => a.recipient) ?? [])
    const bothExist = old.parsed !== undefined && neu.parsed !== undefined
    // sops keeps the ciphertext and the age stanzas of a value it does not touch (`set`), and
    // re-wraps the same data key on `updatekeys` without touching values; only a new data key
    // changes both. Checking the stanzas keeps a one-value file's `set` from looking like a rotation.
    const dataKeyRotated = bothExist && common.length > 0 && newCiphertext.length === common.length
        && stanzasOf(old.parsed) !== stanzasOf(neu.parsed)
    let sameValue: string[] = []
    const hints: Record<string, string> = {}
    let keyedError: string | undefined
    const keyed = identities !== undefined && identities.length > 0
    if (keyed && (added.length > 0 || newCiphertext.length > 0)) {
        try {
            const newPlain = after === undefined ? new Map<string, string>() : await decryptEnv(after, file, identities)
            const oldPlain = before === undefined || newCiphertext.length === 0 ? new Map<string, string>() : await decryptEnv(before, file, identities)
            sameValue = newCiphertext.filter((n) => oldPlain.has(n) && oldPlain.get(n) === newPlain.get(n))
            for (const name of [...added, ...newCiphertext.filter((n) => !sameValue.includes(n))]) {
                const value = newPlain.get(name)
                if (value !== undefined) hints[name] = formatHint(keyHint(name, value, index))
            }
        } catch (error) {
            sameValue = []
            keyedError = isKeyfleetError(error) ? `${error.code}: ${error.message}` : 'decryption failed'
            for (const key of Object.keys(hints)) delete hints[key]
        }
    }
    const compared = keyed && keyedError === undefined
    // Key-less after a rotation nothing can be said about a value: not changed, not unchanged.
    const notCompared = !compared && dataKeyRotated ? newCiphertext : []
    const reencrypted = compared ? sameValue : notCompared
    const changed = newCiphertext.filter((n) => !reencrypted.includes(n))
    const statuses: Record<string, NameStatus> = {}
    for (const n of added) statuses[n] = 'added'
    for (const n of changed) statuses[n] = 'changed'
    for (const n of reencrypted) statuses[n] = compared ? 'reencrypted-same-value' : 'reencrypted'
    for (const n of removed) statuses[n] = 'removed'
    for (const n of unchanged) statuses[n] = 'unchanged'
    const metadataOnly = status === 'modified' && added.length === 0 && removed.length === 0 && changed.length === 0 && notCompared.length === 0
    const parseError = old.error ?? neu.error
    return {
        env, file, status, added, removed, changed, unchanged,
        recipientsAdded: [...newRecipients].filter((r) => !oldRecipients.has(r)),
        recipientsRemoved: [...oldRecipients].filter((r) => !newRecipients.has(r)),
        metadataOnly, dataKeyRotated, reencrypted, statuses, hints, keyed,
        ...(keyedError === undefined ? {} : { keyedError }),
        ...(parseError === undefined ? {} : { parseError }),
    }
}
