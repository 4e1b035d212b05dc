/**
 * The agent ↔ key registry of one environment: which agent reads which key,
 * and which agents a rotation of a key touches. Built from deployment.yaml and
 * the catalog alone (no key needed), so pull-request checks can show it.
 */
import { indexCatalog, parseVariant, variantName, type Catalog } from '../catalog/index.js'
import { storedNameFor } from './regions.js'
import type { Cloud, Deployment, Target } from './types.js'

/** One agent as the registry shows it. */
export interface RegistryAgent {
    readonly name: string
    readonly cloud: Cloud
    readonly target: Target
    /** Kubernetes namespace (kubernetes target). */
    readonly namespace?: string
    /** Host recipient (bundle target); public. */
    readonly recipient?: string
    /** Canonical names, sorted (what the agent reads; a regional agent gets its region's variant under these names). */
    readonly keys: readonly string[]
    /** The agent's region, when it has one. */
    readonly region?: string
}

/** One key as the registry shows it. */
export interface RegistryKey {
    /** Canonical name, e.g. `ANTHROPIC_API_KEY` or pool member `OPENAI_API_KEY_2`. */
    readonly name: string
    /** Service, e.g. `claude`. */
    readonly service: string
    readonly title: string
    /** Other names that mean this key (catalog aliases). */
    readonly aliases: readonly string[]
    /** Whether the catalog requires this key in the environment. */
    readonly required: boolean
    /** Agents that read it, sorted; empty when none does. */
    readonly agents: readonly string[]
    /** For a regional variant (`OPENAI_API_KEY__EU`): its region. */
    readonly region?: string
    /** For a regional variant: the canonical name its agents read it as (`OPENAI_API_KEY`). */
    readonly deliveredAs?: string
}

/** The registry of one environment; plain JSON data. */
export interface Registry {
    readonly keyfleet: 'registry/v1'
    readonly environment: string
    /** Sorted by name. */
    readonly agents: readonly RegistryAgent[]
    /** Every key an agent reads or the catalog requires here, sorted by name. */
    readonly keys: readonly RegistryKey[]
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/**
 * Builds the registry of `env`. Pure and deterministic.
 * @param deployment - a parsed deployment.yaml (its keys already canonical).
 * @param available - which names the environment stores (render passes it); without it a regional
 *   agent is shown reading its region's variant, which validate requires unless `fallback: global`.
 */
export const buildRegistry = (env: string, deployment: Deployment, catalog: Catalog, available?: (name: string) => boolean): Registry => {
    const index = indexCatalog(catalog)
    const readers = new Map<string, string[]>()
    for (const spec of catalog.secrets) if (spec.requiredIn.includes(env)) readers.set(spec.name, [])
    const agents: RegistryAgent[] = deployment.agents.map((a) => {
        for (const key of a.keys) {
            // A regional agent reads its region's variant: a rotation of OPENAI_API_KEY__EU touches only it.
            const stored = storedNameFor(key, a.region, deployment.fallback ?? 'none', available) ?? variantName(key, a.region ?? '')
            const list = readers.get(stored) ?? []
            list.push(a.name)
            readers.set(stored, list)
        }
        return {
            name: a.name, cloud: a.cloud, target: a.target,
            ...(a.namespace === undefined ? {} : { namespace: a.namespace }),
            ...(a.recipient === undefined ? {} : { recipient: a.recipient }),
            keys: [...a.keys].sort(),
            ...(a.region === undefined ? {} : { region: a.region }),
        }
    }).sort(byName)
    const keys: RegistryKey[] = [...readers].map(([name, list]) => {
        const variant = parseVariant(name)
        const resolved = index.resolve(variant?.name ?? name)
        const spec = resolved?.spec
        const pool = resolved && resolved.poolIndex > 1 ? ` (pool member ${resolved.poolIndex})` : ''
        return {
            name,
            service: spec?.service ?? 'unknown',
            title: `${spec?.title ?? name}${pool}${variant ? ` (region ${variant.region})` : ''}`,
            aliases: pool === '' ? [...(spec?.aliases ?? [])] : [],
            required: pool === '' && variant === undefined && spec !== undefined && spec.requiredIn.includes(env),
            agents: [...new Set(list)].sort(),
            ...(variant === undefined ? {} : { region: variant.region, deliveredAs: variant.name }),
        }
    }).sort(byName)
    return { keyfleet: 'registry/v1', environment: env, agents, keys }
}

/**
 * The agents a change (rotation, addition, removal) of any of `names` touches.
 * A name may be canonical, an alias or a service name, matched against the
 * registry's keys.
 * @returns registry agents in name order, each at most once; empty when no agent reads any of them.
 */
export const agentsAffectedBy = (registry: Registry, names: Iterable<string>): RegistryAgent[] => {
    const wanted = new Set(names)
    const touched = new Set<string>()
    for (const key of registry.keys) {
        if (wanted.has(key.name) || wanted.has(key.service) || key.aliases.some((a) => wanted.has(a))) {
            for (const agent of key.agents) touched.add(agent)
        }
    }
    return registry.agents.filter((a) => touched.has(a.name))
}
