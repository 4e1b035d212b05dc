/**
 * Renders a {@link ChangeReport} as plain-text tables (terminals, CI logs)
 * or Markdown (a PR comment or the GitHub step summary). Both show names,
 * statuses, public recipients and hints only: the report holds nothing else.
 * Names come from a pull request, so Markdown output escapes them.
 */
import type { ChangeReport, EnvChange } from './change-report.js'

/** Options of {@link changeReportMarkdown}. */
export interface MarkdownOptions {
    /**
     * Show the agents that read a changed key: `true` (default) uses the
     * report's own list (from deployment.yaml at head); a map env → agent
     * names replaces it; `false` hides the line.
     */
    readonly agentsAffected?: boolean | Readonly<Record<string, readonly string[]>>
    /** Heading level of the per-environment headings (default 3). */
    readonly headingLevel?: number
}

interface Row { name: string; status: string; hint: string }

/** Whether `e` holds re-encrypted names whose values were not compared (key-less, data key rotated). */
const notCompared = (e: EnvChange): boolean => e.reencrypted.some((n) => e.statuses[n] === 'reencrypted')

/** Why key-less re-encrypted names are neither changed nor unchanged; shown under the table. */
export const REENCRYPTED_NOTE = 'data key rotated; values cannot be compared without a key — the deploy job\'s keyed report compares them'

const reencryptedLabel = (e: EnvChange, name: string): string =>
    e.statuses[name] === 'reencrypted' ? 're-encrypted' : 're-encrypted (same value)'

const rowsOf = (e: EnvChange): Row[] => [
    ...e.added.map((name) => ({ name, status: 'added', hint: e.hints[name] ?? '' })),
    ...e.changed.map((name) => ({ name, status: 'changed', hint: e.hints[name] ?? '' })),
    ...e.reencrypted.map((name) => ({ name, status: reencryptedLabel(e, name), hint: '' })),
    ...e.removed.map((name) => ({ name, status: 'removed', hint: '' })),
]

/**
 * One-line summary of an environment's change, e.g. `1 changed` or, key-less
 * after `sops rotate`, `data key rotated, 6 re-encrypted (values not compared key-less)`.
 */
export const summarizeEnv = (e: EnvChange): string => {
    if (e.status === 'unchanged') return 'no change'
    if (e.status === 'added') return `new file, ${e.added.length} name(s)`
    if (e.status === 'removed') return `file removed (${e.removed.length} name(s))`
    const parts: string[] = []
    if (e.added.length) parts.push(`${e.added.length} added`)
    if (e.changed.length) parts.push(`${e.changed.length} changed`)
    if (e.removed.length) parts.push(`${e.removed.length} removed`)
    if (e.recipientsAdded.length || e.recipientsRemoved.length) parts.push(`recipients +${e.recipientsAdded.length}/-${e.recipientsRemoved.length}`)
    if (e.dataKeyRotated) parts.push('data key rotated')
    if (e.reencrypted.length) parts.push(`${e.reencrypted.length} re-encrypted (${notCompared(e) ? 'values not compared key-less' : 'same value'})`)
    if (e.metadataOnly) parts.push('metadata only')
    return parts.length > 0 ? parts.join(', ') : 'metadata only'
}

const withRegion = (e: EnvChange, agent: string): string => {
    const region = e.agentRegions?.[agent]
    return region === undefined ? agent : `${agent} (${region})`
}

const agentsFor = (e: EnvChange, option: MarkdownOptions['agentsAffected']): readonly string[] | undefined => {
    if (option === false) return undefined
    if (option === undefined || option === true) return e.agentsAffected
    return option[e.env] ?? []
}

/** Plain-text rendering: a table per environment. Never contains a value. */
export const changeReportText = (report: ChangeReport): string => {
    const out: string[] = [`keyfleet change report: ${report.base} (${report.baseCommit.slice(0, 12)}) -> ${report.head}${report.headCommit ? ` (${report.headCommit.slice(0, 12)})` : ''}`]
    if (report.environments.length === 0) out.push('', 'No env.secrets file at either revision.')
    for (const e of report.environments) {
        out.push('', `${e.env}  ${e.file}  ${summarizeEnv(e)}`)
        const rows = rowsOf(e)
        if (rows.length > 0) {
            const head: Row = { name: 'NAME', status: 'STATUS', hint: e.keyed ? 'HINT' : '' }
            const w1 = Math.max(...[head, ...rows].map((r) => r.name.length))
            const w2 = Math.max(...[head, ...rows].map((r) => r.status.length))
            for (const r of [head, ...rows]) out.push(`  ${r.name.padEnd(w1)}  ${r.status.padEnd(w2)}  ${r.hint}`.trimEnd())
        }
        if (e.unchanged.length > 0) out.push(`  unchanged: ${e.unchanged.join(', ')}`)
        if (e.recipientsAdded.length > 0) out.push(`  recipients added: ${e.recipientsAdded.join(', ')}`)
        if (e.recipientsRemoved.length > 0) out.push(`  recipients removed: ${e.recipientsRemoved.join(', ')}`)
        if (notCompared(e)) out.push(`  ${REENCRYPTED_NOTE}`)
        else if (e.dataKeyRotated) out.push('  every value has a new ciphertext: the data key was rotated')
        if (e.agentsAffected.length > 0) out.push(`  agents affected: ${e.agentsAffected.map((a) => withRegion(e, a)).join(', ')}`)
        if (e.parseError) out.push(`  warning: ${e.parseError}`)
        if (e.keyedError) out.push(`  no hints: ${e.keyedError}`)
    }
    if (report.catalog) out.push('', 'catalog  environments/keyfleet.yaml  changed', ...report.catalog.map((l) => `  ${l}`))
    return `${out.join('\n')}\n`
}

/** Escapes text for a Markdown table cell or line: PR authors choose names. */
export const mdEscape = (text: string): string =>
    text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')

/** A code span that cannot be broken out of. */
const code = (text: string): string => `\`${text.replace(/[`|\r\n]/g, '')}\``

/**
 * Markdown rendering: a heading and a table per environment, for a PR
 * comment or `$GITHUB_STEP_SUMMARY`. Never contains a value.
 */
export const changeReportMarkdown = (report: ChangeReport, options: MarkdownOptions = {}): string => {
    const h = '#'.repeat(Math.min(6, Math.max(1, options.headingLevel ?? 3)))
    const out: string[] = [
        `Secrets change report: ${code(report.base)} → ${report.headCommit ? code(report.head) : 'working tree'}`,
    ]
    if (report.environments.length === 0) out.push('', 'No env.secrets file at either revision.')
    for (const e of report.environments) {
        out.push('', `${h} ${mdEscape(e.env)}: ${mdEscape(summarizeEnv(e))}`, '')
        const rows = rowsOf(e)
        if (rows.length > 0) {
            out.push(e.keyed ? '| name | status | hint |' : '| name | status |', e.keyed ? '|---|---|---|' : '|---|---|')
            for (const r of rows) out.push(`| ${code(r.name)} | ${r.status} |${e.keyed ? ` ${mdEscape(r.hint)} |` : ''}`)
            out.push('')
        }
        if (e.unchanged.length > 0) out.push(`- Unchanged: ${e.unchanged.map(code).join(', ')}`)
        if (e.recipientsAdded.length > 0) out.push(`- Recipients added: ${e.recipientsAdded.map(code).join(', ')}`)
        if (e.recipientsRemoved.length > 0) out.push(`- Recipients removed: ${e.recipientsRemoved.map(code).join(', ')}`)
        if (notCompared(e)) out.push(`- ${REENCRYPTED_NOTE.charAt(0).toUpperCase()}${REENCRYPTED_NOTE.slice(1)}.`)
        else if (e.dataKeyRotated) out.push('- Every value has a new ciphertext: the data key was rotated.')
        const agents = agentsFor(e, options.agentsAffected)
        if (agents && agents.length > 0) out.push(`- Agents affected: ${agents.map((a) => `${code(a)}${e.agentRegions?.[a] === undefined ? '' : ` (region ${mdEscape(e.agentRegions[a])})`}`).join(', ')}`)
        if (e.parseError) out.push(`- ⚠️ ${mdEscape(e.parseError)}`)
        if (e.keyedError) out.push(`- No hints: ${mdEscape(e.keyedError)}`)
    }
    if (report.catalog) out.push('', `${h} catalog: ${code('environments/keyfleet.yaml')} changed`, '', ...report.catalog.map((l) => `- ${mdEscape(l)}`))
    return `${out.join('\n').trimEnd()}\n`
}
