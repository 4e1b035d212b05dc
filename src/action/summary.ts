/**
 * The step summary: markdown built from names, codes, paths and hints only.
 * Each command returns its sections; main writes them once at the end with
 * `core.summary`, so a failure half-way writes no half summary.
 */
import { sortFindings, type Finding } from '../findings.js'

/** Escapes text for a markdown table cell (pipes, newlines, HTML). */
export const cell = (text: string): string =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')

const icon = { error: '❌ error', warning: '⚠️ warning', notice: 'ℹ️ notice' } as const

/**
 * A markdown section listing findings as a table, or a one-line all-clear.
 *
 * @param title - Heading text, e.g. `Validation: prod (keyed)`.
 */
export const findingsMarkdown = (title: string, findings: readonly Finding[]): string => {
    const lines = [`### ${cell(title)}`, '']
    if (findings.length === 0) {
        lines.push('No findings.', '')
        return lines.join('\n')
    }
    const errors = findings.filter((f) => f.severity === 'error').length
    lines.push(`${findings.length} finding(s), ${errors} error(s).`, '', '| severity | code | where | message |', '|---|---|---|---|')
    for (const f of sortFindings(findings)) {
        const where = `${f.file}${f.line === undefined ? '' : `:${f.line}`}`
        lines.push(`| ${icon[f.severity]} | ${cell(f.code)} | \`${cell(where)}\` | ${cell(f.message)} |`)
    }
    lines.push('')
    return lines.join('\n')
}

/** A markdown list of files, e.g. what a render wrote and which of them are safe to publish. */
export const filesMarkdown = (title: string, files: readonly { path: string; sensitive: boolean }[]): string => {
    const lines = [`### ${cell(title)}`, '', '| file | holds plaintext secrets |', '|---|---|']
    for (const f of files) lines.push(`| \`${cell(f.path)}\` | ${f.sensitive ? 'yes (never uploaded)' : 'no'} |`)
    lines.push('')
    return lines.join('\n')
}
