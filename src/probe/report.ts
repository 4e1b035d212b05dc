/**
 * Presenting probe results: findings (KF5xx) for annotations and exit codes,
 * a markdown table for the action's step summary, and plain text for the CLI.
 * Everything here is built from names, statuses, hints and details; never values.
 */
import { findingBuilder, type Finding, type Severity } from '../findings.js'
import type { ProbeResult, ProbeStatus } from './types.js'

/** The live-check finding codes, documented in docs/live-check.md. Never renamed or reused. */
export const PROBE_CODES = {
    KF500: { severity: 'error', title: 'the provider rejected the key (invalid, revoked or wrong provider)' },
    KF501: { severity: 'warning', title: 'the key works but is rate limited or out of quota or credit' },
    KF502: { severity: 'notice', title: 'the provider could not be asked (timeout, network, 5xx, redirect); an error with --strict' },
    KF503: { severity: 'notice', title: 'the key was not probed (no probe in the catalog, placeholder, malformed)' },
} as const satisfies Record<string, { severity: Severity; title: string }>

const probeFinding = findingBuilder(PROBE_CODES)

const CODE_OF: Record<Exclude<ProbeStatus, 'valid'>, keyof typeof PROBE_CODES> = {
    invalid: 'KF500', limited: 'KF501', unknown: 'KF502', skipped: 'KF503',
}

/** Options of {@link probeFindings}. */
export interface ProbeFindingOptions {
    /** Treat `unknown` as an error (the CLI's `--strict`). */
    readonly strict?: boolean
}

const what = (r: ProbeResult): string => `${r.name} (${r.hint})`

const messageOf = (r: ProbeResult): string => {
    switch (r.status) {
        case 'invalid': return `${what(r)} was rejected by ${r.service}: ${r.detail}. The key is revoked, mistyped or belongs to another account; issue a new key and store it with \`keyfleet set\``
        case 'limited': return `${what(r)} is accepted by ${r.service} but limited: ${r.detail}. Check the account's quota, credit and rate limits`
        case 'unknown': return `${what(r)} could not be checked with ${r.service}: ${r.detail}. Retry later, or check the network and --base-url`
        default: return `${what(r)} was not probed: ${r.detail}`
    }
}

/**
 * One finding per result that is not `valid`: invalid → error KF500, limited →
 * warning KF501, unknown → notice KF502 (error when `strict`), skipped → notice KF503.
 * @param file - repository-relative path of env.secrets.
 * @param lines - line of each name in `file`, when known.
 */
export const probeFindings = (
    results: readonly ProbeResult[], file: string,
    lines?: ReadonlyMap<string, number> | ((name: string) => number | undefined),
    options: ProbeFindingOptions = {},
): Finding[] => {
    const lineOf = typeof lines === 'function' ? lines : (name: string) => lines?.get(name)
    const findings: Finding[] = []
    for (const r of results) {
        if (r.status === 'valid') continue
        const code = CODE_OF[r.status]
        findings.push(probeFinding(code, file, lineOf(r.name), messageOf(r), r.status === 'unknown' && options.strict === true ? 'error' : undefined))
    }
    return findings
}

const ICON: Record<ProbeStatus, string> = { valid: '✅', invalid: '❌', limited: '⚠️', unknown: '❔', skipped: '➖' }

/** Counts per status, e.g. `3 valid, 1 invalid`. */
export const checkSummary = (results: readonly ProbeResult[]): string => {
    const order: ProbeStatus[] = ['valid', 'invalid', 'limited', 'unknown', 'skipped']
    const parts = order.map((s) => [s, results.filter((r) => r.status === s).length] as const).filter(([, n]) => n > 0)
    return parts.length === 0 ? 'no keys' : parts.map(([s, n]) => `${n} ${s}`).join(', ')
}

/** Escapes a table cell: pipes, backslashes, newlines and HTML-ish characters. */
const cell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;')).replace(/\r?\n/g, ' ')

/** A markdown table of the results for a GitHub step summary. */
export const checkMarkdown = (results: readonly ProbeResult[], options: { readonly title?: string } = {}): string => {
    const lines = [`### ${cell(options.title ?? 'Live key check')}`, '', checkSummary(results), '']
    if (results.length > 0) {
        lines.push('| Key | Provider | Status | HTTP | Hint | Detail | Time |', '|---|---|---|---|---|---|---:|')
        for (const r of results) {
            lines.push(`| \`${cell(r.name)}\` | ${cell(r.service)} | ${ICON[r.status]} ${r.status} | ${r.httpStatus ?? ''} | ${cell(r.hint)} | ${cell(r.detail)} | ${r.ms} ms |`)
        }
    }
    return `${lines.join('\n')}\n`
}

/** A plain-text table of the results for a terminal, then the summary line. */
export const checkText = (results: readonly ProbeResult[]): string => {
    const rows = [['NAME', 'PROVIDER', 'STATUS', 'HTTP', 'TIME', 'HINT', 'DETAIL'], ...results.map((r) => [
        r.name, r.service, r.status, r.httpStatus === undefined ? '-' : String(r.httpStatus), `${r.ms}ms`, r.hint, r.detail,
    ])]
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
    const text = rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    return `${text.join('\n')}\n${checkSummary(results)}\n`
}
