/**
 * The bundle target: one age-encrypted file per host holding exactly that
 * agent's keys, opened in process by the loader with the host's identity.
 * Safe to publish as a CI artifact: only the host's identity opens it.
 */
import { seal } from '../age/index.js'
import { weightsText, type Weights } from './generation.js'

/** Format tag of the bundle plaintext. */
export const BUNDLE_FORMAT = 'bundle/v1'

/** The decrypted content of a bundle (docs/render.md). */
export interface BundlePayload {
    readonly keyfleet: typeof BUNDLE_FORMAT
    readonly environment: string
    readonly agent: string
    readonly generation: string
    /** Canonical name to value, names in code-unit order. */
    readonly keys: Readonly<Record<string, string>>
    /** The agent's pool weights (deployment.yaml `weights:`), members in code-unit order; absent when it has none. */
    readonly weights?: Weights
}

/** Path of an agent's bundle inside the render directory. */
export const bundlePath = (agent: string): string => `bundles/${agent}.keys.age`

/**
 * The plaintext JSON of a bundle: one line, fields in a fixed order.
 * @param entries - the agent's keys, sorted by name.
 */
export const bundlePlaintext = (
    environment: string, agent: string, generation: string, entries: readonly (readonly [string, string])[], weights?: Weights,
): string => {
    const payload: BundlePayload = {
        keyfleet: BUNDLE_FORMAT, environment, agent, generation, keys: Object.fromEntries(entries),
        ...(weights !== undefined && Object.keys(weights).length > 0 ? { weights: JSON.parse(weightsText(weights)) as Weights } : {}),
    }
    return `${JSON.stringify(payload)}\n`
}

/**
 * Encrypts a bundle to the host's recipient; returns the armored age file.
 * @throws KeyfleetError `AGE_BAD_RECIPIENT` when the recipient is malformed.
 */
export const sealBundle = (plaintext: string, recipient: string): Promise<string> => seal(plaintext, [recipient])
