/**
 * `validateRepository`: every rule over a repository checkout, key-less by
 * default, keyed for the environments whose identities are given.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BUILTIN_PROBE_ORIGINS, builtinCatalog, catalogOriginProblem, indexCatalog, parseCatalog, type Catalog } from '../catalog/index.js'
import { isProviderOrigin } from '../catalog/origins.js'
import { KeyfleetError } from '../errors.js'
import { sortFindings, type Finding } from '../findings.js'
import { finding } from './codes.js'
import type { Deployment } from '../render/types.js'
import { readDeployment } from './deployment.js'
import { checkDemoRecipients } from './demo-recipients.js'
import { checkProposalReplays } from './proposal-replays.js'
import { checkProposalsKeyless } from './proposals.js'
import { checkKeyed, type KeyedEnvInput } from './keyed.js'
import { checkNames } from './names.js'
import { scanForPlaintextKeys } from './scan.js'
import { checkSecretsFile } from './secrets-file.js'
import { parseSopsConfig, type SopsConfig } from './sops-config.js'

/** Where things live in a keyfleet repository. */
export const CATALOG_PATH = 'environments/keyfleet.yaml'
export const SOPS_CONFIG_PATH = '.sops.yaml'
export const secretsPath = (env: string): string => `environments/${env}/env.secrets`
export const deploymentPath = (env: string): string => `environments/${env}/deployment.yaml`

/** Options of {@link validateRepository}. */
export interface ValidateOptions {
    /** Repository root (where `.sops.yaml` and `environments/` are). */
    readonly root: string
    /** Check only these environments; default: every environment of the catalog or with a directory. */
    readonly environments?: readonly string[]
    /** Environment → age identities; keyed checks run for each environment listed. */
    readonly identities?: Readonly<Record<string, readonly string[]>>
    /** Scan every tracked file for plaintext keys. */
    readonly all?: boolean
    /** Scan the files changed since this git ref (merge base, working tree included). */
    readonly base?: string
    /**
     * Probe origins the catalog may use besides the built-in providers' (KF124
     * otherwise). Supplied by the operator (CLI flag, action input), never read
     * from the repository a pull request can change.
     */
    readonly allowedOrigins?: readonly string[]
}

/** KF124 for every catalog probe whose origin is neither the built-in one nor allowed. */
export const catalogOriginFindings = (catalog: Catalog, allowed: readonly string[]): Finding[] =>
    catalog.secrets.flatMap((spec) => {
        const problem = spec.probe ? catalogOriginProblem(spec.service, spec.probe.baseUrl, BUILTIN_PROBE_ORIGINS.get(spec.service), allowed) : undefined
        return problem ? [finding('KF124', CATALOG_PATH, undefined, `${problem} (see docs/catalog.md#probe-origins)`)] : []
    })

/**
 * A regional base URL (deployment.yaml `regions.<r>.base_urls`) is where agents send that
 * service's key, so it obeys the probe origins' rule (KF124): the built-in provider's own
 * origin or one of its regional ones (PROVIDER_REGIONAL_ORIGINS, the rule the live probe
 * follows too), or one on the operator's allow-list, which a pull request cannot extend.
 */
const isProviderOriginUrl = (service: string, url: string): boolean => {
    try { return isProviderOrigin(service, new URL(url).origin) } catch { return false }
}

export const regionOriginFindings = (deployment: Deployment, allowed: readonly string[]): Finding[] =>
    (deployment.regions ?? []).flatMap((region) => Object.entries(region.baseUrls).flatMap(([service, url]) => {
        // The provider's own regional endpoints (OpenAI's data residency) are as fixed as its probe origin.
        const problem = isProviderOriginUrl(service, url) ? undefined : catalogOriginProblem(service, url, BUILTIN_PROBE_ORIGINS.get(service), allowed)
        return problem ? [finding('KF124', deployment.file, undefined, `region ${region.name}: ${problem.replace('the probe of', 'the base URL of')} (see docs/deployment.md#regions)`)] : []
    }))

/**
 * The catalog of `root`. When it is missing (KF123) or broken (KF120) the
 * built-in one stands in so that key-less structure checks still run, but
 * `valid` is false and the findings are errors: the built-in catalog lacks the
 * repository's own rules (required names, custom keys), so falling back to it
 * silently would weaken validation.
 */
export const readRepoCatalog = (root: string): { catalog: Catalog; findings: Finding[]; valid: boolean } => {
    const path = join(root, CATALOG_PATH)
    if (!existsSync(path)) {
        return {
            catalog: builtinCatalog,
            valid: false,
            findings: [finding('KF123', CATALOG_PATH, undefined,
                `catalog missing: ${CATALOG_PATH} does not exist, so its rules (environments, required names, custom keys) cannot be checked; restore it from git (\`git checkout <ref> -- ${CATALOG_PATH}\`) or write one (docs/catalog.md)`)],
        }
    }
    const { catalog, problems } = parseCatalog(readFileSync(path, 'utf8'), CATALOG_PATH)
    if (catalog) return { catalog, findings: [], valid: true }
    return {
        catalog: builtinCatalog,
        valid: false,
        findings: problems.map((p) => finding('KF120', CATALOG_PATH, p.line, `${p.message} (see docs/catalog.md)`)),
    }
}

/** `.sops.yaml` of `root`, or a KF122 finding when it is missing. */
export const readRepoSopsConfig = (root: string): { config: SopsConfig | undefined; findings: readonly Finding[] } => {
    const path = join(root, SOPS_CONFIG_PATH)
    if (!existsSync(path)) {
        return { config: undefined, findings: [finding('KF122', SOPS_CONFIG_PATH, undefined, '.sops.yaml is missing: run `keyfleet init` to create one rule per environment')] }
    }
    return parseSopsConfig(readFileSync(path, 'utf8'), SOPS_CONFIG_PATH)
}

/** Environments of the catalog plus every directory of `environments/` holding env.secrets or deployment.yaml. */
export const discoverEnvironments = (root: string, catalog: Catalog): string[] => {
    const found = new Set(catalog.environments)
    const dir = join(root, 'environments')
    if (existsSync(dir)) {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
            if (entry.isDirectory() && (existsSync(join(root, secretsPath(entry.name))) || existsSync(join(root, deploymentPath(entry.name))))) found.add(entry.name)
        }
    }
    return [...found]
}

/**
 * Validates the repository at `root`.
 * @returns every finding, sorted by file and line; messages carry names, never values.
 * @throws KeyfleetError `USAGE` for an environment that does not exist; `GIT_FAILED` /
 *   `GIT_MISSING` when a scan was asked for and git cannot list the files.
 */
export const validateRepository = async (options: ValidateOptions): Promise<Finding[]> => {
    const { root } = options
    const repoCatalog = readRepoCatalog(root)
    const { catalog } = repoCatalog
    const index = indexCatalog(catalog)
    const sops = readRepoSopsConfig(root)
    const findings: Finding[] = [...repoCatalog.findings, ...sops.findings]
    if (repoCatalog.valid) findings.push(...catalogOriginFindings(catalog, options.allowedOrigins ?? []))
    // A broken catalog's stand-in would invent environments (the built-in dev/stage/prod): trust the directories.
    const known = discoverEnvironments(root, repoCatalog.valid ? catalog : { ...catalog, environments: [] })
    const envs = options.environments ?? known
    for (const env of envs) {
        if (!known.includes(env)) throw new KeyfleetError('USAGE', `unknown environment "${env}": expected one of ${known.join(', ')}`)
    }
    for (const env of Object.keys(options.identities ?? {})) {
        if (!known.includes(env)) throw new KeyfleetError('USAGE', `an identity was given for unknown environment "${env}": expected one of ${known.join(', ')}`)
    }
    const keyed: KeyedEnvInput[] = []
    for (const env of envs) {
        const file = secretsPath(env)
        const deploymentFile = deploymentPath(env)
        let deployment
        if (existsSync(join(root, deploymentFile))) {
            deployment = await readDeployment(readFileSync(join(root, deploymentFile), 'utf8'), deploymentFile, env, catalog)
            findings.push(...deployment.findings)
            if (deployment.deployment) findings.push(...regionOriginFindings(deployment.deployment, options.allowedOrigins ?? []))
        }
        // Write-only proposals travel in the PR: check them without any key (docs/lifecycle.md).
        if (repoCatalog.valid) findings.push(...checkProposalsKeyless(root, env, catalog))
        // A proposal restored from history would re-apply an old (maybe revoked) value.
        findings.push(...await checkProposalReplays(root, env))
        if (!existsSync(join(root, file))) {
            findings.push(finding('KF106', file, undefined, `environment ${env} has no env.secrets: create it with \`keyfleet env add ${env}\` (then \`keyfleet set ${env} NAME\`) or remove the environment with \`keyfleet env rm ${env}\``))
            continue
        }
        const text = readFileSync(join(root, file), 'utf8')
        const check = checkSecretsFile(text, file, sops.config)
        findings.push(...check.findings)
        const nameFindings = checkNames({
            env, file, names: check.names, index,
            ...(deployment ? { deploymentFile, deploymentKeys: deployment.keys, unknownKeysReported: true, fallback: deployment.fallback } : {}),
        })
        // With a broken catalog the built-in one stands in; its verdict on names would mislead.
        findings.push(...(repoCatalog.valid ? nameFindings : nameFindings.filter((f) => f.code === 'KF110' || f.code === 'KF111')))
        const identities = options.identities?.[env]
        if (identities && identities.length > 0) {
            const lines = new Map(check.names.map((n) => [n.name, n.line]))
            keyed.push({ env, file, text, identities, lineOf: (name) => lines.get(name) })
        }
    }
    // Published private keys protect nothing: report every recipient they open (KF107).
    findings.push(...checkDemoRecipients(root, envs))
    if (keyed.length > 0) findings.push(...await checkKeyed(keyed, index, catalog.environments.at(-1)))
    if (options.all) findings.push(...await scanForPlaintextKeys({ root, scope: { kind: 'all' }, catalog }))
    else if (options.base !== undefined) findings.push(...await scanForPlaintextKeys({ root, scope: { kind: 'changed', base: options.base }, catalog }))
    return sortFindings(dedupe(findings))
}

/** A plaintext value in env.secrets is found by KF101 and by the scan: report it once. */
const dedupe = (findings: readonly Finding[]): Finding[] => {
    const kf101 = new Set(findings.filter((f) => f.code === 'KF101').map((f) => `${f.file}:${f.line}`))
    return findings.filter((f) => !(f.code === 'KF130' && kf101.has(`${f.file}:${f.line}`)))
}
