/**
 * Reads the unencrypted parts of the repository the action needs: the
 * catalog and an environment's deployment.yaml.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Catalog } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { parseDeployment } from '../render/index.js'

/** Repository-relative path of the catalog, for messages. */
export const CATALOG_FILE = 'environments/keyfleet.yaml'

/** Repository-relative path of an environment's deployment.yaml. */
export const deploymentFile = (env: string): string => `environments/${env}/deployment.yaml`

/**
 * Parses `environments/<env>/deployment.yaml`.
 *
 * @returns The parse result (deployment undefined when it has errors), or
 *   undefined when the environment has no deployment.yaml.
 */
export const readDeployment = async (root: string, env: string, catalog: Catalog): Promise<ReturnType<typeof parseDeployment> | undefined> => {
    const file = deploymentFile(env)
    let text: string
    try {
        text = await readFile(join(root, file), 'utf8')
    } catch {
        return undefined
    }
    return parseDeployment(text, file, catalog)
}

/** Throws when the environment is not in the catalog. */
export const assertEnvironment = (catalog: Catalog, env: string): void => {
    if (!catalog.environments.includes(env)) {
        throw new KeyfleetError('ACTION_UNKNOWN_ENVIRONMENT', `environment "${env}" is not listed in ${CATALOG_FILE} (known: ${catalog.environments.join(', ')}).`, { file: CATALOG_FILE })
    }
}
