/**
 * Reads `environments/<env>/deployment.yaml`: the agents of an environment,
 * where each runs and which keys each may read. Every schema problem becomes a
 * KF3xx finding with its line; the schema is documented in docs/deployment.md.
 */
import { isRecipient } from '../age/recipient.js'
import { indexCatalog, parseVariant, type Catalog } from '../catalog/index.js'
import { hasErrors, sortFindings, type Finding } from '../findings.js'
import { parseYamlSource } from '../yaml-source.js'
import { MAX_WEIGHTS, WEIGHT_MEMBER } from './generation.js'
import { deploymentFinding, type DeploymentCode } from './codes.js'
import { readRegions } from './regions.js'
import { CLOUDS, DEFAULT_MOUNT_PATH, DEFAULT_STATUS_PORT, TARGETS, type AgentSpec, type Cloud, type Deployment, type Target } from './types.js'

/** RFC 1123 label: what Kubernetes requires of namespace and container names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
// RFC 1123 subdomain: what Kubernetes requires of a Deployment name.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
// Absolute, no `..` segment, no characters a kubelet or a shell would treat specially.
const MOUNT_PATH = /^(\/[A-Za-z0-9._-]+)+$/

const TOP_FIELDS = ['environment', 'regions', 'fallback', 'agents']
const AGENT_FIELDS = ['name', 'cloud', 'target', 'region', 'namespace', 'recipient', 'keys', 'deployment', 'container', 'mountPath', 'status_port', 'status_url', 'weights']

/** Result of {@link parseDeployment}: the deployment when there is no error-level finding. */
export interface ParsedDeployment {
    readonly deployment: Deployment | undefined
    /** Every finding, sorted by line; warnings may accompany a valid deployment. */
    readonly findings: readonly Finding[]
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Parses and checks deployment.yaml text against `catalog`. Never throws.
 * @param file - the path used in findings (repository-relative, forward slashes).
 * @returns `deployment` undefined when any finding is an error.
 */
export const parseDeployment = (text: string, file: string, catalog: Catalog): ParsedDeployment => {
    const src = parseYamlSource(text, file)
    const findings: Finding[] = []
    const report = (code: DeploymentCode, path: (string | number)[], message: string): void => {
        findings.push(deploymentFinding(code, file, src.lineOf(path), message))
    }
    for (const e of src.syntaxErrors) findings.push(deploymentFinding('KF300', file, e.line, `YAML syntax: ${e.message}`))
    if (findings.length > 0) return { deployment: undefined, findings }

    const root: unknown = src.toJS({ maxAliasCount: 100 })
    if (!isRecord(root)) {
        report('KF301', [], 'deployment.yaml must be a mapping with `environment` and `agents` (see docs/deployment.md)')
        return { deployment: undefined, findings }
    }
    for (const key of Object.keys(root)) {
        if (!TOP_FIELDS.includes(key)) report('KF302', [key], `unknown top-level field "${key}" (allowed: ${TOP_FIELDS.join(', ')})`)
    }
    const environment = root.environment
    if (typeof environment !== 'string' || !catalog.environments.includes(environment)) {
        report('KF313', ['environment'], `\`environment\` must be one of the catalog's environments (${catalog.environments.join(', ')})`)
    }
    if (!Array.isArray(root.agents)) {
        report('KF301', ['agents'], '`agents` must be a list of agents (each with name, cloud, target and keys)')
        return { deployment: undefined, findings: sortFindings(findings) }
    }
    const index = indexCatalog(catalog)
    const { regions, fallback } = readRegions(root.regions, root.fallback, report, (service) => index.byService(service) !== undefined)
    const agents: AgentSpec[] = []
    const names = new Map<string, number>()
    const mounts = new Map<string, string>()
    root.agents.forEach((raw, i) => {
        const at = ['agents', i]
        const line = src.lineOf(at)
        // Checked on the raw name so that a duplicate is reported even when either entry has other problems.
        const rawName = isRecord(raw) && typeof raw.name === 'string' ? raw.name : undefined
        const prior = rawName === undefined ? undefined : names.get(rawName)
        if (prior !== undefined) {
            report('KF304', [...at, 'name'], `agent "${rawName}" is already defined on line ${prior}; agent names must be unique in an environment`)
        } else if (rawName !== undefined) names.set(rawName, line)
        const agent = readAgent(raw, at, report, index, line)
        if (!agent || prior !== undefined) return
        if (agent.region !== undefined && !regions.some((r) => r.name === agent.region)) {
            const declared = regions.length === 0 ? 'the environment declares no regions' : `declared: ${regions.map((r) => r.name).join(', ')}`
            report('KF318', [...at, 'region'], `agent ${agent.name}: region "${agent.region.slice(0, 40)}" is not declared under \`regions:\` (${declared}); declare it or fix the agent`)
            return
        }
        if (typeof environment === 'string' && environment.length + 1 + agent.name.length > 63) {
            // The Secret's app.kubernetes.io/instance label is `<env>-<agent>`, and label values stop at 63 characters.
            report('KF305', [...at, 'name'], `agent name "${agent.name}" is too long: "${environment}-${agent.name}" must fit in 63 characters (a Kubernetes label value)`)
            return
        }
        if (agent.target === 'kubernetes') {
            const target = `${agent.namespace}/${agent.deployment}`
            const other = mounts.get(target)
            if (other !== undefined) {
                report('KF317', [...at, 'name'], `agents "${other}" and "${agent.name}" both patch Deployment ${target}; one Deployment runs one keyfleet agent: give this one its own \`deployment\` or merge the two agents`)
                return
            }
            mounts.set(target, agent.name)
        }
        agents.push(agent)
    })
    const sorted = sortFindings(findings)
    if (hasErrors(sorted) || typeof environment !== 'string') return { deployment: undefined, findings: sorted }
    return { deployment: { environment, agents, file, regions, fallback }, findings: sorted }
}

const isStatusUrl = (text: string): boolean => {
    try {
        const url = new URL(text)
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
    } catch {
        return false
    }
}

type Report = (code: DeploymentCode, path: (string | number)[], message: string) => void

const readAgent = (
    raw: unknown, at: (string | number)[], report: Report, index: ReturnType<typeof indexCatalog>, line: number,
): AgentSpec | undefined => {
    if (!isRecord(raw)) {
        report('KF301', at, 'each agent must be a mapping with name, cloud, target and keys')
        return undefined
    }
    const before = { errors: 0 }
    const fail: Report = (code, path, message) => { before.errors++; report(code, path, message) }
    for (const key of Object.keys(raw)) {
        if (!AGENT_FIELDS.includes(key)) fail('KF302', [...at, key], `unknown agent field "${key}" (allowed: ${AGENT_FIELDS.join(', ')})`)
    }
    const str = (field: string, required: boolean): string | undefined => {
        const value = raw[field]
        if (value === undefined) {
            if (required) fail('KF303', at, `agent is missing \`${field}\``)
            return undefined
        }
        if (typeof value !== 'string' || value === '') { fail('KF303', [...at, field], `\`${field}\` must be a non-empty string`); return undefined }
        return value
    }
    const name = str('name', true)
    const label = name ?? `#${Number(at[1]) + 1}`
    if (name !== undefined && !DNS_LABEL.test(name)) {
        fail('KF305', [...at, 'name'], `agent name "${name}" must be an RFC 1123 label: lowercase letters, digits and '-', at most 63 characters`)
    }
    const cloud = str('cloud', true)
    if (cloud !== undefined && !CLOUDS.includes(cloud as Cloud)) {
        fail('KF307', [...at, 'cloud'], `agent ${label}: unknown cloud "${cloud}" (allowed: ${CLOUDS.join(', ')})`)
    }
    const target = str('target', true)
    if (target !== undefined && !TARGETS.includes(target as Target)) {
        fail('KF308', [...at, 'target'], `agent ${label}: unknown target "${target}" (allowed: ${TARGETS.join(', ')})`)
    }
    const region = str('region', false)
    const namespace = str('namespace', target === 'kubernetes')
    const recipient = str('recipient', false)
    if (target === 'kubernetes') {
        if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
            fail('KF306', [...at, 'namespace'], `agent ${label}: namespace "${namespace}" must be an RFC 1123 label: lowercase letters, digits and '-', at most 63 characters`)
        }
        if (recipient !== undefined) report('KF315', [...at, 'recipient'], `agent ${label}: \`recipient\` is ignored for target kubernetes (the cluster decrypts nothing)`)
    }
    if (target === 'bundle') {
        if (recipient === undefined && raw.recipient === undefined) {
            fail('KF309', at, `agent ${label}: a bundle target needs \`recipient\`, the host's age public key (age1…; see \`keyfleet keygen\`)`)
        } else if (recipient !== undefined && !isRecipient(recipient)) {
            const shown = recipient.startsWith('AGE-SECRET-KEY') ? 'an age SECRET key (never put it in git; give its public key)' : `"${recipient.slice(0, 12)}${recipient.length > 12 ? '…' : ''}"`
            fail('KF310', [...at, 'recipient'], `agent ${label}: recipient ${shown} is not an age recipient (age1… or age1pq1…, with a valid checksum: copy it again from \`keyfleet keygen\` output)`)
        }
        for (const field of ['namespace', 'deployment', 'container', 'mountPath', 'status_port']) {
            if (raw[field] !== undefined) report('KF315', [...at, field], `agent ${label}: \`${field}\` is ignored for target bundle`)
        }
    }
    const deployment = str('deployment', false) ?? name
    if (deployment !== undefined && raw.deployment !== undefined && (deployment.length > 253 || !DNS_SUBDOMAIN.test(deployment))) {
        fail('KF314', [...at, 'deployment'], `agent ${label}: deployment "${deployment}" must be an RFC 1123 subdomain (a valid Deployment name)`)
    }
    const container = str('container', false) ?? name
    if (container !== undefined && raw.container !== undefined && !DNS_LABEL.test(container)) {
        fail('KF314', [...at, 'container'], `agent ${label}: container "${container}" must be an RFC 1123 label (a valid container name)`)
    }
    const mountPath = str('mountPath', false) ?? DEFAULT_MOUNT_PATH
    if (!MOUNT_PATH.test(mountPath) || mountPath.split('/').some((part) => part === '..' || part === '.')) {
        fail('KF314', [...at, 'mountPath'], `agent ${label}: mountPath must be an absolute path without '.' or '..' segments, e.g. ${DEFAULT_MOUNT_PATH}`)
    }
    const statusPort = raw.status_port ?? DEFAULT_STATUS_PORT
    if (typeof statusPort !== 'number' || !Number.isInteger(statusPort) || statusPort < 1 || statusPort > 65535) {
        fail('KF314', [...at, 'status_port'], `agent ${label}: status_port must be a TCP port (1-65535), the port of the agent's keys.serveStatus (default ${DEFAULT_STATUS_PORT})`)
    }
    const statusUrl = str('status_url', false)
    if (target === 'kubernetes' && raw.status_url !== undefined) report('KF315', [...at, 'status_url'], `agent ${label}: \`status_url\` is ignored for target kubernetes (rollout status reads pods through the API server; set status_port)`)
    if (statusUrl !== undefined && !isStatusUrl(statusUrl)) {
        fail('KF314', [...at, 'status_url'], `agent ${label}: status_url must be an http(s) URL without credentials, e.g. http://host.internal:9469/keyfleet/status`)
    }
    const keys = readKeys(raw.keys, [...at, 'keys'], label, fail, report, index)
    const weights = keys === undefined ? undefined : readWeights(raw.weights, [...at, 'weights'], label, keys, fail, index)
    if (before.errors > 0 || name === undefined || keys === undefined) return undefined
    return {
        name, cloud: cloud as Cloud, target: target as Target,
        namespace: target === 'kubernetes' ? namespace : undefined,
        recipient: target === 'bundle' ? recipient : undefined,
        keys, deployment: deployment ?? name, container: container ?? name, mountPath,
        statusPort: statusPort as number, statusUrl: target === 'bundle' ? statusUrl : undefined,
        line, ...(region === undefined ? {} : { region }), ...(weights === undefined ? {} : { weights }),
    }
}

/**
 * `weights: { OPENAI_API_KEY_2: 3 }`: each entry a pool member (env name or alias, resolved to its
 * canonical name) the agent reads, with a positive finite weight. KF320 for anything else.
 */
const readWeights = (
    raw: unknown, at: (string | number)[], label: string, keys: readonly string[], fail: Report, index: ReturnType<typeof indexCatalog>,
): Record<string, number> | undefined => {
    if (raw === undefined) return undefined
    if (!isRecord(raw)) {
        fail('KF320', at, `agent ${label}: \`weights\` must map pool members to positive numbers, e.g. { OPENAI_API_KEY_2: 3 }`)
        return undefined
    }
    const out: Record<string, number> = {}
    for (const [member, weight] of Object.entries(raw)) {
        const where = [...at, member]
        const shown = member.slice(0, 60)
        const resolved = index.resolve(member)
        if (resolved === undefined || resolved.spec.service === member) {
            fail('KF320', where, `agent ${label}: weight for "${shown}", which is not a key name in the catalog (a pool member such as OPENAI_API_KEY_2, not a service)`)
        } else if (!keys.includes(resolved.name)) {
            fail('KF320', where, `agent ${label}: weight for ${resolved.name}, which the agent does not read; add it to \`keys\` or remove the weight`)
        } else if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
            fail('KF320', where, `agent ${label}: the weight of ${resolved.name} must be a positive number (e.g. 3 for three times the share of a weight-1 member)`)
        } else if (out[resolved.name] !== undefined) {
            fail('KF320', where, `agent ${label}: ${resolved.name} is weighted twice (through an alias)`)
        } else if (!WEIGHT_MEMBER.test(resolved.name)) {
            fail('KF320', where, `agent ${label}: ${resolved.name.slice(0, 60)}… is longer than 128 characters, which the loader cannot take weights for; shorten the name or remove the weight`)
        } else out[resolved.name] = weight
    }
    if (Object.keys(out).length > MAX_WEIGHTS) {
        fail('KF320', at, `agent ${label}: ${Object.keys(out).length} weights, more than the ${MAX_WEIGHTS} the loader takes; weight only the members whose quota differs`)
        return undefined
    }
    return Object.keys(out).length === 0 ? undefined : out
}

const readKeys = (
    raw: unknown, at: (string | number)[], label: string, fail: Report, warn: Report, index: ReturnType<typeof indexCatalog>,
): string[] | undefined => {
    if (!Array.isArray(raw)) {
        fail('KF303', at, `agent ${label}: \`keys\` must be a list of env names or services, e.g. [claude, OPENAI_API_KEY]`)
        return undefined
    }
    if (raw.length === 0) warn('KF316', at, `agent ${label} reads no keys; remove it or list its keys`)
    const out = new Set<string>()
    let ok = true
    raw.forEach((item, j) => {
        if (typeof item !== 'string') { fail('KF303', [...at, j], `agent ${label}: each key must be a string`); ok = false; return }
        const resolved = index.resolve(item)
        if (!resolved) {
            const variant = parseVariant(item)
            const hint = variant && index.resolve(variant.name) ? `; "${item}" is the ${variant.region} variant of ${variant.name}: list ${variant.name} and set \`region: ${variant.region}\`` : ''
            fail('KF311', [...at, j], `agent ${label}: "${item}" is neither a name nor a service in the catalog (environments/keyfleet.yaml)${hint}`)
            ok = false
            return
        }
        if (out.has(resolved.name)) warn('KF312', [...at, j], `agent ${label}: "${item}" means ${resolved.name}, which is already listed`)
        out.add(resolved.name)
    })
    return ok ? [...out].sort() : undefined
}
