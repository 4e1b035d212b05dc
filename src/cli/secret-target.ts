/**
 * Shared steps of the commands that write one environment's secrets: which
 * file, which canonical name, and whether a value may be stored.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NAME_PATTERN, formatHint, isPlaceholder, keyHint, resolveStored, variantName } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { parseDeployment } from '../render/deployment.js'
import { SOPS_CONFIG_PATH, assertEnvironment, environmentPaths, type EnvironmentPaths } from '../repo/layout.js'
import { parseSopsFile } from '../sops/native/parse.js'
import { matchRule, parseSopsConfig } from '../validate/sops-config.js'
import type { RepoContext } from './repo-context.js'

/** An environment's secrets file, resolved. */
export interface SecretsTarget {
    readonly paths: EnvironmentPaths
    /** Absolute path of env.secrets. */
    readonly file: string
    readonly exists: boolean
}

/**
 * Resolves `env` to its secrets file and checks, before anything is written,
 * that `.sops.yaml` parses and has a creation rule for it.
 * @throws KeyfleetError `ENV_UNKNOWN`, `ENV_INVALID_NAME`, `SOPS_CONFIG_NOT_FOUND`, `SOPS_CONFIG_INVALID`,
 *   `SOPS_NO_CREATION_RULE`, or a `NATIVE_*` code when env.secrets is not a well-formed SOPS dotenv file.
 */
export const secretsTarget = (repo: RepoContext, env: string): SecretsTarget => {
    const paths = assertEnvironment(repo.root, env, repo.catalog.environments)
    const file = join(repo.root, paths.secrets)
    const configPath = join(repo.root, SOPS_CONFIG_PATH)
    if (!existsSync(configPath)) throw new KeyfleetError('SOPS_CONFIG_NOT_FOUND', `${SOPS_CONFIG_PATH} is missing; run \`keyfleet init\` or restore it from git`)
    const { config, findings } = parseSopsConfig(readFileSync(configPath, 'utf8'), SOPS_CONFIG_PATH)
    const first = findings[0]
    if (first) throw new KeyfleetError('SOPS_CONFIG_INVALID', `${SOPS_CONFIG_PATH}:${first.line ?? 1}: ${first.message}; fix it before changing keys`, { file: SOPS_CONFIG_PATH, line: first.line })
    const rule = matchRule(config, paths.secrets)
    if (!rule || rule.age.length === 0) {
        throw new KeyfleetError('SOPS_NO_CREATION_RULE', `no creation rule with age recipients in ${SOPS_CONFIG_PATH} matches ${paths.secrets}; create the rule with \`keyfleet env add ${env}\``)
    }
    const exists = existsSync(file)
    // Key-less parse first: a damaged or hand-made file gets a precise error naming the line, not a generic sops failure.
    if (exists) parseSopsFile(readFileSync(file, 'utf8'), { store: 'dotenv', file: paths.secrets })
    return { paths, file, exists }
}

/**
 * {@link secretsTarget} for commands that need the file to exist already.
 * @throws KeyfleetError `ENV_NO_SECRETS` saying how to create it, and everything secretsTarget throws.
 */
export const existingSecrets = (repo: RepoContext, env: string): SecretsTarget => {
    const target = secretsTarget(repo, env)
    if (!target.exists) throw new KeyfleetError('ENV_NO_SECRETS', `${target.paths.secrets} does not exist; create it with \`keyfleet set ${env} <NAME>\` or \`keyfleet import ${env} <file.env>\``)
    return target
}

/**
 * A name as messages may show it. A well-formed name or service name is shown;
 * anything else is described, never echoed: `set dev OPENAI_API_KEY=sk-…`
 * would otherwise print the key that was pasted after the `=`.
 */
export const describeName = (name: string): string => {
    if (NAME_PATTERN.test(name) || /^[a-z][a-z0-9-]{0,40}$/.test(name)) return name
    const traits = [
        name.includes('=') ? 'an "="' : '',
        /\s/.test(name) ? 'whitespace' : '',
        /[a-z]/.test(name) && /[A-Z_]/.test(name) ? 'lowercase letters' : '',
    ].filter(Boolean)
    return `the name you gave (${[...name].length} characters${traits.length > 0 ? `, with ${traits.join(' and ')}` : ''}; not shown, it may hold a value)`
}

/** The regions `env`'s deployment.yaml declares (empty without the file). */
const declaredRegions = (repo: RepoContext, env: string): string[] => {
    const file = environmentPaths(env).deployment
    const path = join(repo.root, file)
    if (!existsSync(path)) return []
    return (parseDeployment(readFileSync(path, 'utf8'), file, repo.catalog).deployment?.regions ?? []).map((r) => r.name)
}

/**
 * Checks a name and maps aliases to the canonical name. A regional variant
 * (`OPENAI_API_KEY__EU`, what KF115 and RENDER_REGION_VARIANT_MISSING propose)
 * is accepted when its canonical part is in the catalog and `env` declares the region.
 * @returns the name to store and, when it differs, a note for the user.
 * @throws KeyfleetError `NAME_INVALID`, `NAME_UNKNOWN`, `NAME_REGION_UNDECLARED`.
 */
export const canonicalName = (repo: RepoContext, name: string, allowUnknown: boolean, env?: string): { name: string; note?: string } => {
    if (!NAME_PATTERN.test(name) || name.startsWith('SOPS_') || name.startsWith('sops_')) {
        throw new KeyfleetError('NAME_INVALID', `${describeName(name)} is not a valid key name: use UPPER_SNAKE letters, digits and _ (no =, spaces or newlines; not starting with SOPS_)`)
    }
    const resolved = resolveStored(repo.index, name)
    if (!resolved) {
        if (allowUnknown) return { name }
        throw new KeyfleetError('NAME_UNKNOWN', `${name} is not in the catalog (environments/keyfleet.yaml). Declare it under custom:, use a provider name such as OPENAI_API_KEY, or pass --allow-unknown`)
    }
    if (resolved.region !== undefined) {
        const { region } = resolved
        if (env !== undefined && !declaredRegions(repo, env).includes(region)) {
            throw new KeyfleetError('NAME_REGION_UNDECLARED', `${name} is a regional variant for region ${region}, which ${environmentPaths(env).deployment} does not declare under regions:; declare the region first (nothing was changed)`)
        }
        const stored = variantName(resolved.name, region)
        return stored === name ? { name } : { name: stored, note: `${name} is a variant of an alias of ${resolved.name}; storing it as ${stored}` }
    }
    if (resolved.name !== name) return { name: resolved.name, note: `${name} is ${resolved.spec.service === name ? 'the service' : 'an alias'} of ${resolved.name}; storing it as ${resolved.name}` }
    return { name: resolved.name }
}

/**
 * Checks a value against the provider's format rule and for placeholders.
 * @throws KeyfleetError `VALUE_FORMAT` / `VALUE_PLACEHOLDER` (messages carry the hint shape, never the value).
 */
export const checkValue = (repo: RepoContext, name: string, value: string, force: boolean): void => {
    if (force) return
    const hint = formatHint({ ...keyHint(name, value, repo.index), last4: '' })
    if (isPlaceholder(value)) {
        throw new KeyfleetError('VALUE_PLACEHOLDER', `the value for ${name} (${hint}) looks like a placeholder, not a key; nothing was changed (--force to store it anyway)`)
    }
    const spec = resolveStored(repo.index, name)?.spec
    if (spec?.format && !spec.format.test(value)) {
        throw new KeyfleetError('VALUE_FORMAT', `the value for ${name} (${hint}) does not match the ${spec.title} key format ${spec.format.source}; check you copied the whole key (--force to store it anyway). Nothing was changed`)
    }
}
