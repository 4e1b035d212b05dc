/**
 * The `regions:` block of deployment.yaml (issue 18) and the one rule every
 * consumer shares: which stored name an agent in a region reads for a key.
 * Render, validate, the registry and the change report all call
 * {@link storedNameFor}, so they cannot disagree about who gets which variant.
 */
import { REGION_PATTERN, variantName } from '../catalog/region.js'
import type { DeploymentCode } from './codes.js'
import type { Deployment, RegionFallback, RegionSpec } from './types.js'

type Report = (code: DeploymentCode, path: (string | number)[], message: string) => void

const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value)

const REGION_FIELDS = ['base_urls']
const SERVICE = /^[a-z][a-z0-9-]*$/

/**
 * Reads `regions:` — a list of names (`[eu, us]`) or a mapping of names to
 * `{ base_urls: { <service>: <https URL> } }` — and `fallback:` (`global` or
 * `none`, default `none`). Reports KF319 for each problem.
 */
export const readRegions = (
    raw: unknown, fallbackRaw: unknown, report: Report, knownService: (service: string) => boolean,
): { regions: RegionSpec[]; fallback: RegionFallback } => {
    const regions: RegionSpec[] = []
    let fallback: RegionFallback = 'none'
    if (fallbackRaw !== undefined) {
        if (fallbackRaw === 'global' || fallbackRaw === 'none') fallback = fallbackRaw
        else report('KF319', ['fallback'], '`fallback` must be `global` (agents in a region without a variant get the global key) or `none` (the default: that is an error)')
    }
    if (raw === undefined) return { regions, fallback }
    const entries: [string, unknown, (string | number)[]][] = Array.isArray(raw)
        ? raw.map((name, i) => [typeof name === 'string' ? name : String(name), {}, ['regions', i]])
        : isRecord(raw) ? Object.entries(raw).map(([name, spec]) => [name, spec ?? {}, ['regions', name]]) : []
    if (!Array.isArray(raw) && !isRecord(raw)) {
        report('KF319', ['regions'], '`regions` must list the environment\'s regions, e.g. [eu, us], or map each to { base_urls: { openai: https://… } }')
    }
    for (const [name, spec, at] of entries) {
        if (!REGION_PATTERN.test(name)) {
            report('KF319', at, `region "${name.slice(0, 40)}" must be lowercase letters and digits in '-'-separated parts, e.g. eu or us-east-1`)
            continue
        }
        if (regions.some((r) => r.name === name)) { report('KF319', at, `region ${name} is declared twice`); continue }
        if (!isRecord(spec)) { report('KF319', at, `region ${name} must be a mapping (e.g. { base_urls: { openai: https://… } }) or empty`); continue }
        for (const key of Object.keys(spec)) if (!REGION_FIELDS.includes(key)) report('KF302', [...at, key], `unknown region field "${key}" (allowed: ${REGION_FIELDS.join(', ')})`)
        const baseUrls: Record<string, string> = {}
        const urls = spec.base_urls ?? {}
        if (!isRecord(urls)) report('KF319', [...at, 'base_urls'], `region ${name}: \`base_urls\` must map services to URLs`)
        else {
            for (const [service, url] of Object.entries(urls)) {
                const where = [...at, 'base_urls', service]
                if (!SERVICE.test(service) || !knownService(service)) { report('KF319', where, `region ${name}: "${service.slice(0, 40)}" is not a service of the catalog`); continue }
                if (typeof url !== 'string' || !isHttpsUrl(url)) { report('KF319', where, `region ${name}: the base URL of ${service} must be an https:// URL without credentials, query or fragment`); continue }
                baseUrls[service] = url.replace(/\/+$/, '')
            }
        }
        regions.push({ name, baseUrls })
    }
    return { regions, fallback }
}

// Keys are sent to this URL by the agent: https only, and nothing that could smuggle credentials.
const isHttpsUrl = (text: string): boolean => {
    try {
        const url = new URL(text)
        return url.protocol === 'https:' && url.username === '' && url.password === '' && url.search === '' && url.hash === '' && !/\s/.test(text)
    } catch {
        return false
    }
}

/**
 * The name under which the environment stores what `agent` reads as `key`:
 * the key itself for an agent without a region; for an agent in region R the
 * variant `KEY__R` when `available` holds it, else the global key when the
 * environment says `fallback: global`, else undefined (a validate error,
 * KF115; render refuses with RENDER_REGION_VARIANT_MISSING).
 * @param available - the names the environment stores; undefined means "unknown": assume the variant exists.
 */
export const storedNameFor = (
    key: string, region: string | undefined, fallback: RegionFallback, available: ((name: string) => boolean) | undefined,
): string | undefined => {
    if (region === undefined) return key
    const variant = variantName(key, region)
    if (available === undefined || available(variant)) return variant
    return fallback === 'global' && available(key) ? key : undefined
}

/** The region spec an agent's region names (undefined for an agent without one). */
export const regionOf = (deployment: Deployment, region: string | undefined): RegionSpec | undefined =>
    region === undefined ? undefined : (deployment.regions ?? []).find((r) => r.name === region)

/** Region name → service → base URL of every declared region, for the live probe (src/probe/regional.ts). */
export const regionBaseUrls = (deployment: Deployment): Record<string, Readonly<Record<string, string>>> =>
    Object.fromEntries((deployment.regions ?? []).map((r) => [r.name, r.baseUrls]))
