/**
 * Registering an agent in `environments/<env>/deployment.yaml`: appended with
 * the yaml Document API (comments and order stay), then checked with the
 * render module's own schema before anyone writes it.
 */
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml'
import { assertRecipient } from '../age/index.js'
import type { Catalog } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { formatFinding, hasErrors } from '../findings.js'
import { parseDeployment, type Cloud } from '../render/index.js'

/** An agent to register. `recipient` makes it a bundle target, else `namespace` makes it kubernetes. */
export interface AgentRegistration {
    readonly name: string
    readonly cloud: Cloud | string
    /** Env names or services, e.g. `['claude', 'OPENAI_API_KEY']`. */
    readonly keys: readonly string[]
    readonly recipient?: string
    readonly namespace?: string
}

/**
 * Returns deployment.yaml text with `agent` appended to `agents`, every other
 * line as it was. Validates the result with `parseDeployment`.
 * @param file - repository-relative path, for findings and messages.
 * @throws KeyfleetError `AGE_BAD_RECIPIENT`, `USAGE` (both or neither of recipient/namespace),
 *   `AGENT_EXISTS`, `DEPLOYMENT_INVALID` (the file or the result has findings the original did not).
 */
export const registerAgent = (text: string, file: string, agent: AgentRegistration, catalog: Catalog): string => {
    if (agent.recipient !== undefined && agent.namespace !== undefined) {
        throw new KeyfleetError('USAGE', 'give either --recipient (a host that decrypts its own bundle) or --namespace (a Kubernetes Secret), not both')
    }
    if (agent.recipient === undefined && agent.namespace === undefined) {
        throw new KeyfleetError('USAGE', 'give --recipient age1… for a host (bundle target; `keyfleet agent init` prints it) or --namespace NS for Kubernetes')
    }
    if (agent.recipient !== undefined) assertRecipient(agent.recipient, '--recipient')
    const doc = parseDocument(text)
    if (doc.errors.length > 0) throw new KeyfleetError('DEPLOYMENT_INVALID', `${file} is not valid YAML; fix it first (\`keyfleet validate\`)`, { file })
    let agents = doc.get('agents', true)
    if (agents === undefined || agents === null) {
        agents = new YAMLSeq(doc.schema)
        doc.set('agents', agents)
    }
    if (!isSeq(agents)) throw new KeyfleetError('DEPLOYMENT_INVALID', `${file}: \`agents\` is not a list; fix it first`, { file })
    for (const item of agents.items) {
        if (isMap(item) && item.get('name') === agent.name) {
            throw new KeyfleetError('AGENT_EXISTS', `agent "${agent.name}" already exists in ${file}; choose another name or edit its entry; nothing was changed`, { file })
        }
    }
    const entry: Record<string, unknown> = { name: agent.name, cloud: agent.cloud }
    if (agent.recipient !== undefined) Object.assign(entry, { target: 'bundle', recipient: agent.recipient })
    else Object.assign(entry, { target: 'kubernetes', namespace: agent.namespace })
    const node = doc.createNode({ ...entry, keys: [...agent.keys] })
    const keys = node.get('keys', true)
    // The demo files write keys as [claude, openai]; keep that style.
    if (isSeq(keys)) keys.flow = true
    agents.items.push(node)
    const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false })
    const before = parseDeployment(text, file, catalog).findings
    const after = parseDeployment(out, file, catalog).findings
    const known = new Set(before.map((f) => `${f.code} ${f.message}`))
    const fresh = after.filter((f) => !known.has(`${f.code} ${f.message}`))
    if (hasErrors(after) || fresh.length > 0) {
        const shown = (fresh.length > 0 ? fresh : after).map((f) => `  ${formatFinding(f)}`).join('\n')
        throw new KeyfleetError('DEPLOYMENT_INVALID', `registering "${agent.name}" would leave ${file} with findings; nothing was written:\n${shown}`, { file })
    }
    return out
}
