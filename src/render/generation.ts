/**
 * The generation id of an agent's key set: a short, stable fingerprint that
 * changes exactly when one of the agent's keys is added, removed or changed.
 *
 * Formula (docs/render.md): the first 16 hex digits of
 * `sha256("keyfleet/generation/v1\n" + for each name in code-unit order: name + "\n" + sha256hex(value) + "\n")`.
 * An agent with pool weights (deployment.yaml `weights:`) hashes them as one more
 * entry, {@link WEIGHTS_INPUT} with {@link weightsText}, so a change of weights is a
 * new generation. It depends on nothing else, so the loader can compute the same id
 * from the files it mounted (and the weights they declare) and confirm which render it is serving.
 *
 * Why an unkeyed hash may be published (Secret annotation, CI summary): it is a
 * hash of secrets, so it lets anyone confirm a guess of *every* value of the
 * set at the cost of one hash per guess. Provider API keys carry well over 128
 * bits of entropy, so guessing is hopeless; 64 bits of output reveal nothing
 * usable. A keyed hash would need a secret key CI does not otherwise have.
 * Do not use it for a set that consists only of low-entropy values.
 *
 * Dependency-free (node:crypto only): the loader imports this one render file
 * (eslint.config.js allows it) to compute the id of what it serves.
 */
import { createHash } from 'node:crypto'

/** Domain separator, versioned so a change of formula can never collide with old ids. */
const DOMAIN = 'keyfleet/generation/v1\n'

/** sha256 of one value, lowercase hex: the per-value input of {@link generationId}. */
export const valueDigest = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex')

/**
 * Generation id of a key set.
 * @param entries - name/value pairs in any order; names must be unique.
 * @param digest - computes {@link valueDigest}; a render passes a memoised one, since many agents share values.
 * @returns 16 lowercase hex digits; the same set always gives the same id.
 */
export const generationId = (
    entries: Iterable<readonly [name: string, value: string]>, digest: (value: string) => string = valueDigest,
): string => {
    const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    let text = DOMAIN
    for (const [name, value] of sorted) text += `${name}\n${digest(value)}\n`
    return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)
}

/**
 * The one non-secret entry of each Secret: which render the agent is serving
 * (`{"environment","agent","generation"}` JSON, docs/rotation.md), read by the
 * loader for `keys.deployed`. The leading dot is why it cannot collide: a key
 * is an environment-variable name (letters, digits, `_`), never starts with
 * `.`; Secret data keys may (`[-._a-zA-Z0-9]+`, as `.dockerconfigjson` does);
 * the kubelet's AtomicWriter refuses only paths starting with `..`; and the
 * loader (old versions too) skips dot-files when it reads keys from a volume.
 */
export const GENERATION_ENTRY = '.keyfleet-generation'

/** Pool weights as delivered: canonical member name to a positive number. */
export type Weights = Readonly<Record<string, number>>

/** A member name a delivered `weights` map may hold (render refuses others with KF320; the loader ignores a map with one). */
export const WEIGHT_MEMBER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

/** The most entries a delivered `weights` map may hold (same rule on both sides). */
export const MAX_WEIGHTS = 256

/**
 * The name under which an agent's `weights:` enter its generation id, so that a change of weights
 * alone is a new generation (rollout status sees who has it). Dot-prefixed: never a key's name.
 */
export const WEIGHTS_INPUT = '.keyfleet-weights'

/** Weights as one canonical text (members in code-unit order), the id's input for {@link WEIGHTS_INPUT}. */
export const weightsText = (weights: Weights): string =>
    JSON.stringify(Object.fromEntries(Object.entries(weights).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))

/**
 * What {@link generationId} hashes for an agent: its keys, plus its weights (when it has any) as
 * one more entry. An agent without weights keeps the id of its keys alone, as before weights existed.
 */
export const generationInputs = (
    entries: Iterable<readonly [string, string]>, weights: Weights | undefined,
): (readonly [string, string])[] => {
    const out = [...entries]
    if (weights !== undefined && Object.keys(weights).length > 0) out.push([WEIGHTS_INPUT, weightsText(weights)])
    return out
}

/** The content of {@link GENERATION_ENTRY}: one JSON line, fields in a fixed order; `weights` only when the agent has any. */
export const generationEntry = (env: string, agent: string, generation: string, weights?: Weights): string =>
    weights !== undefined && Object.keys(weights).length > 0
        ? `${JSON.stringify({ environment: env, agent, generation, weights: JSON.parse(weightsText(weights)) as Weights })}\n`
        : `${JSON.stringify({ environment: env, agent, generation })}\n`

