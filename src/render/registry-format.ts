/**
 * The registry as text (a terminal table), JSON and markdown (tables plus a
 * mermaid `graph LR` that GitHub draws in step summaries and pull requests).
 * Every form holds names, targets and public recipients only: never a value.
 */
import { shortRecipient } from '../age/recipient.js'
import type { Registry, RegistryAgent, RegistryKey } from './registry.js'

const where = (a: RegistryAgent): string =>
    (a.target === 'kubernetes' ? `namespace ${a.namespace ?? '?'}` : `recipient ${shortRecipient(a.recipient ?? '?')}`)
    + (a.region === undefined ? '' : `, region ${a.region}`)

// A regional variant's row says which name its agents read it as.
const keyName = (k: RegistryKey, code: boolean): string => {
    const name = code ? `\`${k.name}\`` : k.name
    return k.deliveredAs === undefined ? name : `${name} (${k.region ?? ''}, as ${code ? `\`${k.deliveredAs}\`` : k.deliveredAs})`
}

const table = (head: readonly string[], rows: readonly (readonly string[])[]): string[] => {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
    const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()
    return [line(head), ...rows.map(line)]
}

/** A plain-text report: the agents table, then which agents read each key. Ends with a newline. */
export const registryText = (registry: Registry): string => {
    const lines = [`environment ${registry.environment}: ${registry.agents.length} agent(s), ${registry.keys.length} key(s)`, '']
    lines.push(...table(['AGENT', 'CLOUD', 'TARGET', 'WHERE', 'KEYS'],
        registry.agents.map((a) => [a.name, a.cloud, a.target, where(a), a.keys.join(', ') || '(none)'])))
    lines.push('')
    lines.push(...table(['KEY', 'SERVICE', 'READ BY (a rotation touches these agents)'],
        registry.keys.map((k) => [keyName(k, false), k.service, k.agents.length > 0 ? k.agents.join(', ') : `(no agent${k.required ? '; required here' : ''})`])))
    return `${lines.join('\n')}\n`
}

/** The registry as pretty JSON (2-space indent), ending with a newline. */
export const registryJson = (registry: Registry): string => `${JSON.stringify(registry, null, 2)}\n`

// Markdown cells and mermaid labels. Agent names are RFC 1123 labels and key names UPPER_SNAKE (in backticks),
// so only free-form text (environment, service, recipients) goes through cell().
const cell = (s: string): string => s.replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`)
const label = (s: string): string => s.replace(/["<>#]/g, (c) => `#${c.charCodeAt(0)};`)

/** Above this many edges GitHub's mermaid refuses to draw (its default maxEdges is 500). */
export const MERMAID_MAX_EDGES = 400

/**
 * The mermaid `graph LR` source: key nodes on the left, arrows to the agents
 * that read them. A fleet too large to draw gets a one-node graph saying so.
 */
export const registryMermaid = (registry: Registry): string => {
    const lines = ['graph LR']
    const edges = registry.keys.reduce((n, k) => n + k.agents.length, 0)
    if (edges > MERMAID_MAX_EDGES) {
        lines.push(`    note["${registry.agents.length} agents, ${registry.keys.length} keys, ${edges} edges: too many to draw; see the tables"]`)
        return lines.join('\n')
    }
    const agentId = new Map(registry.agents.map((a, i) => [a.name, `a${i}`]))
    registry.keys.forEach((k, i) => lines.push(`    k${i}(["${label(k.name)}"])`))
    registry.agents.forEach((a, i) => {
        const place = (a.target === 'kubernetes' ? `${a.namespace ?? ''}` : 'bundle') + (a.region === undefined ? '' : ` · ${a.region}`)
        lines.push(`    a${i}["${label(a.name)}<br/>${label(a.cloud)} · ${label(place)}"]`)
    })
    registry.keys.forEach((k, i) => {
        for (const agent of k.agents) lines.push(`    k${i} --> ${agentId.get(agent) ?? 'unknown'}`)
    })
    return lines.join('\n')
}

/** A markdown section: heading, agents table, keys table and the mermaid graph. Ends with a newline. */
export const registryMarkdown = (registry: Registry): string => {
    const lines = [`### Agents and keys: ${cell(registry.environment)}`, '']
    lines.push('| agent | cloud | target | where | keys |', '|---|---|---|---|---|')
    for (const a of registry.agents) {
        lines.push(`| ${cell(a.name)} | ${a.cloud} | ${a.target} | ${cell(where(a))} | ${a.keys.map((k) => `\`${k}\``).join(', ') || '(none)'} |`)
    }
    lines.push('', '| key | service | read by (a rotation touches) |', '|---|---|---|')
    for (const k of registry.keys) {
        lines.push(`| ${keyName(k, true)} | ${cell(k.service)} | ${k.agents.length > 0 ? k.agents.join(', ') : `(no agent${k.required ? '; required here' : ''})`} |`)
    }
    lines.push('', '```mermaid', registryMermaid(registry), '```')
    return `${lines.join('\n')}\n`
}
