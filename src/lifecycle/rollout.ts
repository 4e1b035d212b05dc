/**
 * `rollout status` (issue 17): which agents serve the generation the last
 * render produced, which are behind, which cannot be read. The comparison and
 * the reports live here; how a status is read (kubectl through the API
 * server's pod proxy, or a host's `status_url`) is a {@link StatusReader}.
 *
 * Everything an agent answers is hostile input: only a well-formed generation
 * id is taken from it, and no part of its answer is ever echoed.
 */
import { KeyfleetError } from '../errors.js'
import type { AgentSpec } from '../render/index.js'

/** What the last render produced for one agent, and where its status is read. */
export interface ExpectedAgent {
    readonly name: string
    readonly target: AgentSpec['target']
    readonly namespace: string | undefined
    readonly deployment: string | undefined
    readonly statusPort: number
    readonly statusUrl: string | undefined
    /** The agent's region (issue 18), when deployment.yaml gives one. */
    readonly region?: string | undefined
    /** The generation id the render gave this agent. */
    readonly generation: string
}

/** One pod's (or the host's) answer. */
export interface Observation {
    /** The pod name, or `host`. */
    readonly where: string
    /** The generation id it serves; undefined when it could not be read. */
    readonly generation: string | undefined
    /** Its source is healthy (false: it keeps older keys despite a problem). */
    readonly healthy: boolean | undefined
    /** Why it could not be read (no value, no answer text). */
    readonly reason: string | undefined
}

/** `current`: every pod serves the render's generation; `behind`: one serves another; `unknown`: cannot tell. */
export type RolloutState = 'current' | 'behind' | 'unknown'

/** One agent's rollout. */
export interface AgentRollout {
    readonly agent: string
    readonly target: AgentSpec['target']
    /** As {@link ExpectedAgent.region}. */
    readonly region?: string | undefined
    readonly expected: string
    readonly state: RolloutState
    readonly observed: readonly Observation[]
    /** Why the state is unknown, when no pod could be asked at all. */
    readonly reason: string | undefined
}

/** The whole report (`--json`). */
export interface RolloutReport {
    readonly keyfleet: 'rollout/v1'
    readonly environment: string
    readonly agents: readonly AgentRollout[]
    readonly counts: Readonly<Record<RolloutState, number>>
    /** Every agent is current. */
    readonly complete: boolean
}

/** Reads what agents serve. */
export interface StatusReader {
    /** The Running pods of a kubernetes agent and what each serves; a string says why none could be asked. */
    kubernetes(agent: ExpectedAgent): Promise<readonly Observation[] | string>
    /** What a host serves, read from its `status_url`. */
    host(agent: ExpectedAgent, url: string): Promise<Observation>
}

const GENERATION = /^[0-9a-f]{16}$/

/**
 * The generation id in a status answer (`keyfleet-status/v1` JSON), checked for shape.
 * @returns the id and health, or a reason; never any text of the answer.
 */
export const parseStatusAnswer = (text: string): { generation: string | undefined; healthy: boolean | undefined } | string => {
    let doc: unknown
    try { doc = JSON.parse(text) } catch { return 'the status endpoint did not answer JSON' }
    if (typeof doc !== 'object' || doc === null) return 'the status endpoint did not answer keyfleet-status/v1'
    const d = doc as { keyfleet?: unknown; deployed?: unknown; source?: unknown }
    if (d.keyfleet !== 'keyfleet-status/v1') return 'the status endpoint did not answer keyfleet-status/v1'
    const healthy = typeof d.source === 'object' && d.source !== null && typeof (d.source as { healthy?: unknown }).healthy === 'boolean'
        ? (d.source as { healthy: boolean }).healthy : undefined
    if (d.deployed === null) return { generation: undefined, healthy }
    const generation = typeof d.deployed === 'object' && d.deployed !== undefined ? (d.deployed as { generation?: unknown }).generation : undefined
    if (typeof generation !== 'string' || !GENERATION.test(generation)) return 'the status answer has no generation id'
    return { generation, healthy }
}

const stateOf = (expected: string, observed: readonly Observation[]): RolloutState => {
    if (observed.some((o) => o.generation !== undefined && o.generation !== expected)) return 'behind'
    if (observed.length === 0 || observed.some((o) => o.generation === undefined)) return 'unknown'
    return 'current'
}

/** Reads every agent once and compares. */
export const readRollout = async (environment: string, agents: readonly ExpectedAgent[], reader: StatusReader): Promise<RolloutReport> => {
    const rows = await Promise.all(agents.map(async (a): Promise<AgentRollout> => {
        let observed: readonly Observation[] = []
        let reason: string | undefined
        if (a.target === 'kubernetes') {
            const got = await reader.kubernetes(a)
            if (typeof got === 'string') reason = got
            else if (got.length === 0) reason = 'no Running pods'
            else observed = got
        } else if (a.statusUrl === undefined) {
            reason = 'no status_url in deployment.yaml'
        } else {
            observed = [await reader.host(a, a.statusUrl)]
        }
        return { agent: a.name, target: a.target, ...(a.region === undefined ? {} : { region: a.region }), expected: a.generation, state: reason === undefined ? stateOf(a.generation, observed) : 'unknown', observed, reason }
    }))
    const counts = { current: 0, behind: 0, unknown: 0 }
    for (const r of rows) counts[r.state]++
    return { keyfleet: 'rollout/v1', environment, agents: rows, counts, complete: counts.current === rows.length }
}

/**
 * Reads until every agent is current or `timeoutMs` passed.
 * @param pause - waits between rounds; resolves false to stop early (interrupt).
 */
export const waitForRollout = async (
    environment: string, agents: readonly ExpectedAgent[], reader: StatusReader, timeoutMs: number,
    pause: (ms: number) => Promise<boolean>, intervalMs = 2000,
): Promise<RolloutReport> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
        const report = await readRollout(environment, agents, reader)
        if (report.complete || Date.now() >= deadline) return report
        if (!(await pause(Math.min(intervalMs, Math.max(0, deadline - Date.now()))))) return report
    }
}

/**
 * `10m`, `90s`, `1h`, `1500ms` or plain seconds → milliseconds.
 * @throws KeyfleetError `USAGE` for anything else.
 */
export const parseDuration = (text: string, flag: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
    if (!m) throw new KeyfleetError('USAGE', `${flag} must be a duration like 10m, 90s or 1h, not "${text.slice(0, 20)}"`)
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
    return Math.round(Number(m[1]) * unit)
}

const served = (r: AgentRollout): string => {
    if (r.observed.length === 0) return r.reason ?? ''
    const by = new Map<string, number>()
    for (const o of r.observed) by.set(o.generation ?? 'unreadable', (by.get(o.generation ?? 'unreadable') ?? 0) + 1)
    const unit = r.target === 'kubernetes' ? 'pod' : 'host'
    return [...by].map(([g, n]) => `${g} ×${n} ${unit}${n === 1 ? '' : 's'}`).join(', ')
}

const notes = (r: AgentRollout): string => {
    const out = new Set<string>()
    if (r.reason !== undefined && r.observed.length > 0) out.add(r.reason)
    for (const o of r.observed) {
        if (o.reason !== undefined) out.add(`${o.where}: ${o.reason}`)
        if (o.healthy === false) out.add(`${o.where}: source unhealthy (keeps its last good keys)`)
    }
    return [...out].join('; ')
}

/** Rows of the report, one per agent: AGENT, TARGET (with the region, if any), STATE, EXPECTED, SERVING, NOTE. */
export const rolloutRows = (report: RolloutReport): string[][] =>
    report.agents.map((r) => [r.agent, r.region === undefined ? r.target : `${r.target} (${r.region})`, r.state, r.expected, served(r), notes(r)])

/** The one-line verdict. */
export const rolloutVerdict = (report: RolloutReport): string => {
    const { current, behind, unknown } = report.counts
    const total = report.agents.length
    return report.complete
        ? `${report.environment}: all ${total} agents serve the last render`
        : `${report.environment}: ${current}/${total} agents serve the last render, ${behind} behind, ${unknown} unknown`
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** A markdown table plus a mermaid pie chart, for the GitHub step summary. */
export const rolloutMarkdown = (report: RolloutReport): string => {
    const head = ['agent', 'target', 'state', 'expected', 'serving', 'note']
    const lines = [
        `**${rolloutVerdict(report)}**`, '',
        `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`,
        ...rolloutRows(report).map((row) => `| ${row.map((c, i) => (i === 3 && c !== '' ? `\`${c}\`` : cell(c))).join(' | ')} |`),
    ]
    const slices = (['current', 'behind', 'unknown'] as const).filter((s) => report.counts[s] > 0)
    if (slices.length > 0) {
        lines.push('', '```mermaid', `pie showData title Rollout of ${report.environment}`, ...slices.map((s) => `    "${s}" : ${report.counts[s]}`), '```')
    }
    return `${lines.join('\n')}\n`
}
