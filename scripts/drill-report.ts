/**
 * What the rotation drill (scripts/drill.ts) measured, overall and by kind of
 * agent (kubernetes, host), and how it prints it; plus its argv.
 */

/** The two kinds of agent the drill runs. */
export type AgentKind = 'kubernetes' | 'host'

/** What the drill measured for one kind of agent. */
export interface KindResult {
    readonly agents: number
    readonly calls: number
    /** Calls no key could serve, as the agents counted them. */
    readonly failed: number
    /** From the merge of step a to the last agent of this kind's first call with the new key. */
    readonly mergeToLastNewMs: number
    /** Calls the provider saw from this kind with the old key after it was revoked. */
    readonly oldAfterRevoke: number
}

/** What the drill measured. */
export interface DrillResult {
    readonly agents: number
    readonly hosts: number
    /** Hosts opening the channel in process (`openKeys({ url })`) and hosts running `agent sync`. */
    readonly hostsVia: { readonly url: number; readonly sync: number }
    /** Which writer swapped the Secret volumes: `kubelet` (the Go AtomicWriter) or `copy` (ours). */
    readonly writer: 'kubelet' | 'copy'
    readonly calls: number
    readonly failed: number
    /** Provider answers by key (`old`, `new`) and HTTP status. */
    readonly byKey: Readonly<Record<string, Readonly<Record<string, number>>>>
    readonly byKind: Readonly<Record<AgentKind, KindResult>>
    /** From the merge of step a to the last agent's first call with the new key. */
    readonly mergeToLastNewMs: number
    /** From the merge of step a until the old key was revoked (rollout confirmed twice). */
    readonly mergeToRevocableMs: number
    readonly oldAfterRevoke: number
    /** Median time of one deploy (render + publish + every volume swapped) in this run, for comparison. */
    readonly deployMs: number
}

const goal = (x: number): string => (x === 0 ? 'goal 0: met' : 'goal 0: NOT MET')
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

/** The drill's report as a table. */
export const drillTable = (r: DrillResult): string => {
    const k = r.byKind.kubernetes
    const hk = r.byKind.host
    const rows: [string, string, string][] = [
        ['agents', `${r.agents} kubernetes + ${r.hosts} hosts`, `hosts: ${r.hostsVia.url} openKeys({ url }), ${r.hostsVia.sync} agent sync`],
        ['Secret volumes written by', r.writer === 'kubelet' ? "the kubelet's AtomicWriter (Go)" : 'our TypeScript copy of it', ''],
        ['calls made', String(r.calls), `kubernetes ${k.calls}, host ${hk.calls}`],
        ['calls failed', String(r.failed), `${goal(r.failed)} (kubernetes ${k.failed}, host ${hk.failed})`],
        ['provider answers', Object.entries(r.byKey).map(([key, v]) => `${key}: ${Object.entries(v).map(([s, c]) => `${s}×${c}`).join(' ')}`).join('; '), ''],
        ['one deploy (render + publish + every volume swapped)', secs(r.deployMs), 'median, for comparison'],
        ['merge → last agent on the new key', secs(r.mergeToLastNewMs), `kubernetes ${secs(k.mergeToLastNewMs)}, host ${r.hosts > 0 ? secs(hk.mergeToLastNewMs) : '-'}`],
        ['merge → old key revocable (revoked)', secs(r.mergeToRevocableMs), ''],
        ['calls with the old key after revocation', String(r.oldAfterRevoke), `${goal(r.oldAfterRevoke)} (kubernetes ${k.oldAfterRevoke}, host ${hk.oldAfterRevoke})`],
    ]
    const w = [0, 1].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)))
    return `${rows.map(([a, b, c]) => `${a.padEnd(w[0] ?? 0)}  ${b.padEnd(w[1] ?? 0)}  ${c}`.trimEnd()).join('\n')}\n`
}

/** argv of `node dist/scripts/drill.js [N] [--hosts H] [--json]`. */
export const drillArgs = (argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { agents: number; hosts: number | undefined; json: boolean } => {
    const at = argv.indexOf('--hosts')
    const hostsText = at === -1 ? env.KEYFLEET_DRILL_HOSTS : argv[at + 1]
    const positional = argv.filter((a, i) => !a.startsWith('--') && (at === -1 || i !== at + 1))
    const agents = Number(positional[0] ?? env.KEYFLEET_DRILL_AGENTS ?? 20)
    const hosts = hostsText === undefined ? undefined : Number(hostsText)
    if (!Number.isInteger(agents) || agents < 1 || (hosts !== undefined && !(Number.isInteger(hosts) && hosts >= 0))) throw new Error('usage: drill [AGENTS] [--hosts H] [--json]')
    return { agents, hosts, json: argv.includes('--json') }
}

