/**
 * `npm run bench`: runs every suite, prints one table, writes
 * bench/results/latest.json (machine, node version, rows).
 * Suites are listed here; each compares against a baseline measured in the same run.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchRow, BenchSuite } from './types.js'

const suites: Record<string, () => Promise<{ run: BenchSuite }>> = {
    'channel': () => import('./channel.js'),
    'cold-start': () => import('./cold-start.js'),
    'drill': () => import('./drill.js'),
    'loader': () => import('./loader.js'),
    'native': () => import('./native.js'),
    'render': () => import('./render.js'),
    'selection': () => import('./selection.js'),
}

const only = process.argv.slice(2)
// The machine may be shared: the load average at the start and the end says how much to trust a row.
const loadAtStart = loadavg()
const rows: BenchRow[] = []
const progress = (message: string): void => { process.stderr.write(`  … ${message}\n`) }
for (const [name, load] of Object.entries(suites)) {
    if (only.length > 0 && !only.includes(name)) continue
    process.stderr.write(`bench ${name}\n`)
    const { run } = await load()
    rows.push(...await run(progress))
}

const fmt = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3))
const table = rows.map((r) => [
    r.suite, r.name, `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : '',
    r.ratio === undefined ? '' : `${fmt(r.ratio)}x`,
    r.goal ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO',
])
const head = ['suite', 'measure', 'value', 'baseline (same run)', 'ratio', 'goal', 'met']
const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)))
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`
console.log(line(head))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const row of table) console.log(line(row))

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results', 'latest.json')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, `${JSON.stringify({
    date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30), loadavg: { start: loadAtStart, end: loadavg() }, rows,
}, null, 2)}\n`)
console.log(`\nload average (1, 5, 15 min): ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at the start, ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`)
console.log(`wrote ${out}`)
