/**
 * The repository layout: where an environment's files live, and which
 * environments exist. Environment names come from the catalog's
 * `environments:` list and the directories under `environments/`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { KeyfleetError } from '../errors.js'

/** The files of one environment, relative to the repository root (forward slashes). */
export interface EnvironmentPaths {
    readonly env: string
    readonly dir: string
    readonly secrets: string
    readonly deployment: string
    readonly proposals: string
}

const ENV_NAME = /^[a-z][a-z0-9-]*$/

/** Repository-relative paths of `env`. @throws KeyfleetError `ENV_INVALID_NAME`. */
export const environmentPaths = (env: string): EnvironmentPaths => {
    if (!ENV_NAME.test(env)) {
        throw new KeyfleetError('ENV_INVALID_NAME', `"${env.slice(0, 40)}" is not an environment name (lowercase letters, digits, dashes; e.g. prod)`)
    }
    const dir = `environments/${env}`
    return { env, dir, secrets: `${dir}/env.secrets`, deployment: `${dir}/deployment.yaml`, proposals: `${dir}/proposals` }
}

/** Catalog path relative to the root. */
export const CATALOG_PATH = 'environments/keyfleet.yaml'
/** sops configuration path relative to the root. */
export const SOPS_CONFIG_PATH = '.sops.yaml'

/** Environment directories that exist under `root/environments`, sorted. */
export const listEnvironmentDirs = (root: string): string[] => {
    const base = join(root, 'environments')
    if (!existsSync(base)) return []
    return readdirSync(base).filter((name) => ENV_NAME.test(name) && statSync(join(base, name)).isDirectory()).sort()
}

/**
 * Checks that `env` is a known environment of the repository at `root`.
 * @param known - the catalog's environments (promotion order).
 * @throws KeyfleetError `ENV_UNKNOWN` listing the known ones.
 */
export const assertEnvironment = (root: string, env: string, known: readonly string[]): EnvironmentPaths => {
    const paths = environmentPaths(env)
    if (!known.includes(env) && !listEnvironmentDirs(root).includes(env)) {
        throw new KeyfleetError('ENV_UNKNOWN', `unknown environment "${env}"; known: ${[...new Set([...known, ...listEnvironmentDirs(root)])].join(', ') || 'none'}. Create it with \`keyfleet env add ${env}\``)
    }
    return paths
}
