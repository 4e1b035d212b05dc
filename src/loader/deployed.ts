/**
 * What the agent serves (issue 17): the render's generation id, recomputed
 * from the keys the loader actually read, and the environment and agent the
 * source says it belongs to. `rollout status` compares it with the render's.
 *
 * The id is computed here, not taken on trust: a Secret volume carries the
 * render's claim in `.keyfleet-generation` and a bundle in its payload, and
 * `verified` says whether the claim matches the keys. Names and ids only.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { GENERATION_ENTRY, MAX_WEIGHTS, WEIGHT_MEMBER, generationId, generationInputs, type Weights } from '../render/generation.js'

export { GENERATION_ENTRY }

/** The render an agent serves, as `keys.deployed` and the status handler report it. */
export interface Deployed {
    /** The environment the source names (Secret entry or bundle), undefined when it names none. */
    readonly environment: string | undefined
    /** The agent the source names, undefined when it names none. */
    readonly agent: string | undefined
    /** Generation id of the key set read from the source (docs/render.md formula): 16 hex digits. */
    readonly generation: string
    /** When this generation was first served, ISO 8601. */
    readonly since: string
    /** True when the source declared this same generation id (it came from that render, whole: keys and weights). */
    readonly verified: boolean
    /** The pool weights the render delivered (deployment.yaml `weights:`); absent when it delivered none. */
    readonly weights?: Weights
}

/** The render's claim, read from the source. */
export interface Declared {
    readonly environment: string | undefined
    readonly agent: string | undefined
    readonly generation: string | undefined
    /** Pool weights delivered with the keys; undefined when none (or malformed: then they declare nothing). */
    readonly weights?: Weights | undefined
}

// Shapes the render produces; anything else is ignored, so a label or JSON field never carries odd text.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
const GENERATION = /^[0-9a-f]{16}$/

const pick = (value: unknown, shape: RegExp): string | undefined =>
    typeof value === 'string' && shape.test(value) ? value : undefined


/**
 * Weights as the render writes them: member names to positive finite numbers. Anything else
 * declares no weights at all (a half-valid map would apply weights the render never wrote).
 */
export const declaredWeights = (value: unknown): Weights | undefined => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0 || entries.length > MAX_WEIGHTS) return undefined
    const out: Record<string, number> = {}
    for (const [name, w] of entries) {
        if (!WEIGHT_MEMBER.test(name) || typeof w !== 'number' || !Number.isFinite(w) || w <= 0) return undefined
        out[name] = w
    }
    return Object.freeze(out)
}

/** Checks a declared environment, agent, generation and weights; a field of another shape becomes undefined. */
export const declared = (environment: unknown, agent: unknown, generation: unknown, weights?: unknown): Declared => {
    const w = declaredWeights(weights)
    return { environment: pick(environment, NAME), agent: pick(agent, NAME), generation: pick(generation, GENERATION), ...(w === undefined ? {} : { weights: w }) }
}

/**
 * Reads `dir/.keyfleet-generation` (a Secret volume's payload directory).
 * @returns its text, or undefined when there is none (a Secret keyfleet did not render, an older render) or it cannot be read.
 */
export const readGenerationEntry = (dir: string): string | undefined => {
    try {
        return readFileSync(join(dir, GENERATION_ENTRY), 'utf8')
    } catch {
        // Metadata only: an unreadable entry (EACCES, EISDIR, gone mid-swap) never costs the keys; it declares nothing.
        return undefined
    }
}

/** Parses the entry's JSON; a malformed entry declares nothing (the keys are still served). */
export const parseGenerationEntry = (text: string | undefined): Declared | undefined => {
    if (text === undefined) return undefined
    let doc: unknown
    try {
        doc = JSON.parse(text)
    } catch {
        return undefined
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined
    const d = doc as Record<string, unknown>
    return declared(d.environment, d.agent, d.generation, d.weights)
}

/**
 * The next `deployed` after a good read.
 * @param entries - the source's entries as read (name to value).
 * @param claim - what the source declared, if anything.
 * @param previous - the current `deployed`; its `since` is kept while the generation and names stay the same.
 */
export const nextDeployed = (
    entries: ReadonlyMap<string, string>, claim: Declared | undefined, previous: Deployed | undefined, now: number,
): Deployed => {
    // The id covers the delivered weights as the render's did, so `verified` means keys and weights.
    const weights = claim?.weights
    const generation = generationId(generationInputs(entries, weights))
    const environment = claim?.environment
    const agent = claim?.agent
    if (previous && previous.generation === generation && previous.environment === environment && previous.agent === agent
        && previous.verified === (claim?.generation === generation)) return previous
    return Object.freeze({ environment, agent, generation, since: new Date(now).toISOString(), verified: claim?.generation === generation, ...(weights === undefined ? {} : { weights }) })
}
