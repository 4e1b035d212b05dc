/**
 * Name rules for one environment: names are UPPER_SNAKE and unique (also
 * after resolving aliases), known to the catalog or declared custom, every
 * name the catalog requires there is present, and every key the
 * deployment's agents read exists.
 */
import { NAME_PATTERN, parseVariant, variantName, type CatalogIndex } from '../catalog/index.js'
import { storedNameFor } from '../render/regions.js'
import type { RegionFallback } from '../render/types.js'
import type { Finding } from '../findings.js'
import { finding } from './codes.js'

/** A name as it appears in env.secrets. */
export interface NamedLine {
    readonly name: string
    readonly line: number | undefined
}

/** A key an agent of deployment.yaml reads. */
export interface DeploymentKeyRef {
    readonly agent: string
    /** As written: an env name, alias, pool member or service name. */
    readonly key: string
    readonly line: number | undefined
    /** The agent's region (issue 18): it reads that region's variant `NAME__REGION`. */
    readonly region?: string
}

/** Input of {@link checkNames}. */
export interface NameCheckInput {
    readonly env: string
    /** Repo-relative path of env.secrets. */
    readonly file: string
    readonly names: readonly NamedLine[]
    readonly index: CatalogIndex
    /** Repo-relative path of deployment.yaml, when the environment has one. */
    readonly deploymentFile?: string
    readonly deploymentKeys?: readonly DeploymentKeyRef[]
    /** Set when deployment.yaml's own schema already reports keys unknown to the catalog (render's KF311). */
    readonly unknownKeysReported?: boolean
    /** deployment.yaml's `fallback:`; `global` lets a regional agent without a variant read the global key. */
    readonly fallback?: RegionFallback
}

/**
 * Runs the name rules. Never throws.
 * @returns KF110-KF114 findings; names only, values are never seen here.
 */
export const checkNames = (input: NameCheckInput): Finding[] => {
    const { env, file, index } = input
    const findings: Finding[] = []
    // canonical (resolved) name -> the name as written and its line
    const present = new Map<string, NamedLine>()
    // catalog names with at least one pool member present (OPENAI_API_KEY, OPENAI_API_KEY_2, ...)
    const pooled = new Set<string>()
    const written = new Map<string, NamedLine>()
    for (const entry of input.names) {
        const { name, line } = entry
        const earlier = written.get(name)
        if (earlier) {
            findings.push(finding('KF111', file, line, `${name} is defined twice (also on line ${earlier.line ?? '?'}): keep one line and delete the other with \`keyfleet unset\``))
            continue
        }
        written.set(name, entry)
        if (!NAME_PATTERN.test(name)) {
            findings.push(finding('KF110', file, line, `"${name}" is not an UPPER_SNAKE name (A-Z, 0-9, _; starting with a letter): rename it`))
            continue
        }
        // A regional variant (OPENAI_API_KEY__EU) is known when its canonical part is, spelled canonically.
        const variant = parseVariant(name)
        const base = variant ? index.resolve(variant.name) : undefined
        const resolved = variant ? base && base.name === variant.name ? { name } : undefined : index.resolve(name)
        if (!resolved) {
            if (variant && base) {
                findings.push(finding('KF112', file, line, `${name}: a regional variant must use the canonical name: rename it ${variantName(base.name, variant.region)}`))
                continue
            }
            findings.push(finding('KF112', file, line, `${name} is not in the catalog: add it under \`custom:\` in environments/keyfleet.yaml, or use the provider's name (e.g. OPENAI_API_KEY)`))
            continue
        }
        const same = present.get(resolved.name)
        if (same) {
            findings.push(finding('KF111', file, line, `${name} and ${same.name} (line ${same.line ?? '?'}) are the same secret ${resolved.name}: keep only ${resolved.name}`))
            continue
        }
        present.set(resolved.name, entry)
        if ('spec' in resolved) pooled.add(resolved.spec.name)
    }
    for (const spec of index.catalog.secrets) {
        // Any member of the key's pool satisfies the requirement: after `rotate-key` only OPENAI_API_KEY_2 may be left.
        if (spec.requiredIn.includes(env) && !pooled.has(spec.name)) {
            findings.push(finding('KF113', file, undefined, `${spec.name} (${spec.title}) is required in ${env} but missing: add it with \`keyfleet set ${env} ${spec.name}\``))
        }
    }
    for (const ref of input.deploymentKeys ?? []) {
        const where = input.deploymentFile ?? file
        const resolved = index.resolve(ref.key)
        if (!resolved) {
            if (input.unknownKeysReported) continue
            findings.push(finding('KF114', where, ref.line, `agent ${ref.agent} reads "${ref.key}", which is neither a catalog name nor a service: fix the name or declare it under \`custom:\``))
        } else if (ref.region !== undefined) {
            const stored = storedNameFor(resolved.name, ref.region, input.fallback ?? 'none', (n) => present.has(n))
            if (stored === undefined) {
                const variant = variantName(resolved.name, ref.region)
                const global = input.fallback === 'global' ? ` (with \`fallback: global\` the global ${resolved.name} would do, but ${file} lacks it too)` : `, or set \`fallback: global\` in ${where} to give it the global ${resolved.name}`
                findings.push(finding('KF115', where, ref.line, `agent ${ref.agent} runs in region ${ref.region} and reads ${resolved.name}, but ${file} has no ${variant}: add it with \`keyfleet set ${env} ${variant}\`${global}`))
            }
        } else if (!present.has(resolved.name)) {
            findings.push(finding('KF114', where, ref.line, `agent ${ref.agent} reads ${resolved.name}${ref.key === resolved.name ? '' : ` ("${ref.key}")`}, which ${file} does not define: add it with \`keyfleet set ${env} ${resolved.name}\` or remove it from the agent`))
        }
    }
    return findings
}
