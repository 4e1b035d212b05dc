/** Plain-text tables for terminal output (no colours, stable for tests and logs). */

/** Renders rows under a header with columns padded to fit. */
export const renderTable = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
    const line = (cells: readonly string[]): string => cells.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd()
    return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n'
}
