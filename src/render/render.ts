/**
 * renderEnvironment: from a decrypted environment and its deployment.yaml to
 * the files each agent mounts. Pure apart from age's randomness in bundles:
 * the same inputs give byte-identical manifests.
 */
import { baseUrlName, indexCatalog, variantName, type Catalog, type CatalogIndex } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { demoIdentityOf } from '../repo/demo.js'
import { bundlePath, bundlePlaintext, sealBundle } from './bundle.js'
import { generationId, generationInputs, valueDigest } from './generation.js'
import { deploymentPatch, environmentComponent, namespaceComponent, patchPath, secretManifest, secretPath, toBase64 } from './kubernetes.js'
import { regionOf, storedNameFor } from './regions.js'
import { buildRegistry } from './registry.js'
import { registryJson, registryMarkdown } from './registry-format.js'
import type { AgentSpec, Deployment, RenderedFile, RenderOutput } from './types.js'
import { validateDeploymentPatch, validateSecret } from './validate-manifest.js'
import { emitYaml } from './yaml-emit.js'

/** Inputs of {@link renderEnvironment}. */
export interface RenderInput {
    /** Environment name; must equal `deployment.environment`. */
    readonly env: string
    /** The decrypted environment: canonical name to value. */
    readonly values: ReadonlyMap<string, string>
    readonly deployment: Deployment
    readonly catalog: Catalog
    /** Called after each agent with (agents done, agents total); for progress display only. */
    readonly onProgress?: (done: number, total: number) => void
    /**
     * Allow bundles sealed to a published demo recipient (src/repo/demo.ts). Only the
     * demo repository itself passes true (`isDemoRepository`); default false: refuse.
     */
    readonly allowDemoRecipients?: boolean
}

/** Mode of files holding plaintext secrets. */
export const SENSITIVE_MODE = 0o600
/** Mode of files safe to publish (patches, kustomizations, registry, age bundles). */
export const PUBLIC_MODE = 0o644

const HEADER = '# Rendered by keyfleet from deployment.yaml. Do not edit: re-run `keyfleet render`.\n'

/**
 * The value of canonical `name`: under that name, or else under one of its
 * catalog aliases (an env.secrets may still say CLAUDE_API_KEY).
 */
const lookup = (name: string, values: ReadonlyMap<string, string>, index: CatalogIndex): string | undefined => {
    const direct = values.get(name)
    if (direct !== undefined) return direct
    const resolved = index.resolve(name)
    if (!resolved || resolved.poolIndex !== 1) return undefined
    for (const alias of resolved.spec.aliases) {
        const value = values.get(alias)
        if (value !== undefined) return value
    }
    return undefined
}

/**
 * What one agent receives, sorted by name: each key it reads under its
 * canonical name — for an agent in a region that region's variant (or, with
 * `fallback: global`, the global key), never another region's — plus the
 * region's base URL of each service it reads, as `<NAME>_BASE_URL`.
 * The caller has checked that every stored name exists.
 */
const agentEntries = (agent: AgentSpec, deployment: Deployment, values: ReadonlyMap<string, string>, index: CatalogIndex): [string, string][] => {
    const has = (name: string): boolean => lookup(name, values, index) !== undefined
    const entries = agent.keys.map((name): [string, string] => {
        const stored = storedNameFor(name, agent.region, deployment.fallback ?? 'none', has) as string
        return [name, lookup(stored, values, index) as string]
    })
    const urls = regionOf(deployment, agent.region)?.baseUrls ?? {}
    const services = new Set(agent.keys.map((k) => index.resolve(k)?.spec))
    for (const spec of services) {
        const url = spec && urls[spec.service]
        if (spec === undefined || url === undefined) continue
        const name = baseUrlName(spec.name)
        if (agent.keys.includes(name)) {
            throw new KeyfleetError('RENDER_REGION_CONFLICT', `agent ${agent.name} reads ${name} as a key and its region ${agent.region ?? ''} also sets it as the base URL of ${spec.service}; remove one of them from ${deployment.file}`, { file: deployment.file })
        }
        entries.push([name, url])
    }
    return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * Renders an environment: per kubernetes agent a Secret (0600) and a
 * Deployment patch, per namespace a kustomize Component, one top-level
 * Component, per bundle agent `bundles/<agent>.keys.age`, and the registry as
 * `registry.json` and `registry.md`. Every manifest is validated against the
 * Kubernetes schema before it is returned.
 * @throws KeyfleetError `RENDER_ENV_MISMATCH` when deployment.yaml is for another
 *   environment; `RENDER_MISSING_KEYS` naming every agent/key the environment
 *   lacks (names only); `RENDER_REGION_VARIANT_MISSING` naming each regional agent's missing
 *   variant (`NAME__EU`) when the environment has no `fallback: global`; `RENDER_REGION_CONFLICT`; `RENDER_INVALID_MANIFEST`; `AGE_BAD_RECIPIENT`; `RENDER_DEMO_RECIPIENT` when a
 *   bundle agent's recipient is a published demo identity (unless `allowDemoRecipients`).
 */
export const renderEnvironment = async (input: RenderInput): Promise<RenderOutput> => {
    const { env, values, deployment, catalog } = input
    if (deployment.environment !== env) {
        throw new KeyfleetError('RENDER_ENV_MISMATCH', `${deployment.file} is for environment "${deployment.environment}", not "${env}": fix its \`environment\` field`, { file: deployment.file })
    }
    const index = indexCatalog(catalog)
    const has = (name: string): boolean => lookup(name, values, index) !== undefined
    const fallback = deployment.fallback ?? 'none'
    const missing = deployment.agents.flatMap((a) => a.keys.filter((k) => a.region === undefined && !has(k)).map((k) => `${a.name}: ${k}`))
    const regional = deployment.agents.flatMap((a) => a.region === undefined ? [] : a.keys
        .filter((k) => storedNameFor(k, a.region, fallback, has) === undefined)
        .map((k) => `${a.name} (${a.region as string}): ${variantName(k, a.region as string)}`))
    if (regional.length > 0) {
        throw new KeyfleetError('RENDER_REGION_VARIANT_MISSING', `environment ${env} lacks regional variants its regional agents read (${regional.join(', ')}); add each with \`keyfleet set ${env} NAME__REGION\`, or set \`fallback: global\` in ${deployment.file} to give those agents the global key`, { file: deployment.file })
    }
    if (missing.length > 0) {
        throw new KeyfleetError('RENDER_MISSING_KEYS', `environment ${env} lacks keys its agents read (${missing.join(', ')}); add them with \`keyfleet set ${env} NAME\` or remove them from ${deployment.file}`, { file: deployment.file })
    }
    if (input.allowDemoRecipients !== true) {
        const demo = deployment.agents.filter((a) => a.target === 'bundle' && a.recipient !== undefined && demoIdentityOf(a.recipient) !== undefined)
        if (demo.length > 0) {
            const named = demo.map((a) => `${a.name}: ${demoIdentityOf(a.recipient as string) ?? ''}`).join(', ')
            throw new KeyfleetError('RENDER_DEMO_RECIPIENT', `refusing to seal a bundle to a published demo identity (${named}): anyone can open it; remove the agent from ${deployment.file} or give it its own recipient (\`keyfleet keygen\` on the host)`, { file: deployment.file })
        }
    }
    // Many agents share each value: hash and encode each value once per render, not once per agent.
    const memo = (fn: (value: string) => string): ((value: string) => string) => {
        const cache = new Map<string, string>()
        return (value) => {
            let out = cache.get(value)
            if (out === undefined) cache.set(value, out = fn(value))
            return out
        }
    }
    const digest = memo(valueDigest)
    const encode = memo(toBase64)
    const files: RenderedFile[] = []
    const generation: Record<string, string> = {}
    const namespaces = new Map<string, AgentSpec[]>()
    const total = deployment.agents.length
    let done = 0
    for (const agent of deployment.agents) {
        const entries = agentEntries(agent, deployment, values, index)
        // Weights are part of what the agent receives: a change of weights alone is a new generation.
        const id = generationId(generationInputs(entries, agent.weights), digest)
        generation[agent.name] = id
        if (agent.target === 'kubernetes') {
            const secret = secretManifest(env, agent, entries, id, encode)
            validateSecret(secret, `the Secret of agent ${agent.name}`)
            const patch = deploymentPatch(agent)
            validateDeploymentPatch(patch, `the Deployment patch of agent ${agent.name}`)
            files.push({ path: secretPath(agent), content: HEADER + emitYaml(secret), mode: SENSITIVE_MODE, sensitive: true })
            files.push({ path: patchPath(agent), content: HEADER + emitYaml(patch), mode: PUBLIC_MODE, sensitive: false })
            const list = namespaces.get(agent.namespace as string) ?? []
            list.push(agent)
            namespaces.set(agent.namespace as string, list)
        } else {
            const sealed = await sealBundle(bundlePlaintext(env, agent.name, id, entries, agent.weights), agent.recipient as string)
            files.push({ path: bundlePath(agent.name), content: sealed, mode: PUBLIC_MODE, sensitive: false })
        }
        input.onProgress?.(++done, total)
    }
    for (const [namespace, agents] of namespaces) {
        files.push({ path: `${namespace}/kustomization.yaml`, content: HEADER + emitYaml(namespaceComponent(agents)), mode: PUBLIC_MODE, sensitive: false })
    }
    if (namespaces.size > 0) {
        files.push({ path: 'kustomization.yaml', content: HEADER + emitYaml(environmentComponent([...namespaces.keys()])), mode: PUBLIC_MODE, sensitive: false })
    }
    const registry = buildRegistry(env, deployment, catalog, has)
    files.push({ path: 'registry.json', content: registryJson(registry), mode: PUBLIC_MODE, sensitive: false })
    files.push({ path: 'registry.md', content: registryMarkdown(registry), mode: PUBLIC_MODE, sensitive: false })
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    return { environment: env, files, generation, registry }
}
