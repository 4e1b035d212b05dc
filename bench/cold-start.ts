/**
 * Cold start (issue 15): each `keyfleet` command as a whole process, as a person at a terminal or
 * a CI step runs it, against `node -e 0`, `sops --version`, `sops decrypt` of the same file and
 * `dotenvx get`, all in the same run. Five runs each after one warm-up (file cache), wall time
 * min/median/max, the median peak RSS and CPU time (through /usr/bin/time when present; CPU is
 * the steadier number on a shared machine). Goals as ratios to
 * `node -e 0`: `--help` and key-less commands ≤ 1.5×, keyed in-process commands ≤ 2×, RSS ≤ 1.3×.
 *
 * `KEYFLEET_BENCH_CLI=path/to/main.js` measures another build of the CLI (e.g. the tsc output
 * `dist/src/cli/main.js`, or an older checkout's) against the same baselines;
 * `KEYFLEET_BENCH_BEFORE=path/to/main.js` measures that build too, interleaved, as `[before]` rows.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { BenchRow, BenchSuite } from './types.js'
import { findRoot, sopsBinary } from './tools.js'

/** Five runs as issue 15 asks; `KEYFLEET_BENCH_RUNS=N` takes more on a busy machine. */
const RUNS = Math.max(1, Number(process.env.KEYFLEET_BENCH_RUNS ?? 5) || 5)
const TIME = '/usr/bin/time'

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

interface Measured { readonly min: number; readonly median: number; readonly max: number; readonly rssMiB?: number; readonly cpuMs?: number }
interface Sample { readonly ms: number; readonly rss?: number; readonly cpu?: number }

/** One whole-process run of `argv` from `cwd`: wall ms and peak RSS; fails loudly on a non-zero exit. */
const once = (argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, rssFile: string): Sample => {
    const withTime = existsSync(TIME)
    const [file, args] = withTime ? [TIME, ['-f', '%M %U %S', '-o', rssFile, ...argv]] : [argv[0] as string, argv.slice(1)]
    const t0 = performance.now()
    const r = spawnSync(file, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`cold-start: ${argv.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 300)}`)
    if (!withTime) return { ms }
    const [kib, user, sys] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number)
    return { ms, rss: (kib ?? 0) / 1024, cpu: ((user ?? 0) + (sys ?? 0)) * 1000 }
}

const summarise = (samples: readonly Sample[]): Measured => {
    const times = samples.map((s) => s.ms)
    const rss = samples.flatMap((s) => (s.rss === undefined ? [] : [s.rss]))
    const cpu = samples.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]))
    return { min: Math.min(...times), median: median(times), max: Math.max(...times), ...(rss.length > 0 ? { rssMiB: median(rss) } : {}), ...(cpu.length > 0 ? { cpuMs: median(cpu) } : {}) }
}

export const run: BenchSuite = async (progress) => {
    const root = findRoot()
    const sops = sopsBinary(root)
    const cli = resolve(process.env.KEYFLEET_BENCH_CLI ?? join(root, 'dist', 'cli', 'main.js'))
    const before = process.env.KEYFLEET_BENCH_BEFORE ? resolve(process.env.KEYFLEET_BENCH_BEFORE) : undefined
    const dotenvx = join(root, 'node_modules', '@dotenvx', 'dotenvx', 'src', 'cli', 'dotenvx.js')
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-bench-cold-'))
    try {
        const rssFile = join(dir, 'rss')
        const secrets = 'environments/dev/env.secrets'
        // dotenvx reads a plain .env of the same names (its own encryption uses its own keys).
        const plainEnv = join(dir, '.env')
        writeFileSync(plainEnv, 'OPENAI_API_KEY=sk-proj-bench\nANTHROPIC_API_KEY=sk-ant-bench\n', { mode: 0o600 })
        // The floor of any ES-module entry (the CLI is one): node's ESM loader before any code of ours.
        const emptyEsm = join(dir, 'empty.mjs')
        writeFileSync(emptyEsm, '')
        const base: NodeJS.ProcessEnv = { PATH: `${dirname(sops)}:${process.env.PATH ?? ''}`, HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1' }
        const keyed: NodeJS.ProcessEnv = { ...base, SOPS_AGE_KEY_FILE: join(root, 'examples', 'demo-keys', 'dev.agekey') }
        const node = process.execPath
        type Case = readonly [group: 'baseline' | 'key-less' | 'keyed' | 'before', label: string, argv: readonly string[], env: NodeJS.ProcessEnv]
        const current: readonly Case[] = [
            ['baseline', 'node -e 0', [node, '-e', '0'], base],
            ['baseline', 'sops --version', [sops, '--version'], base],
            ['baseline', `sops decrypt --input-type dotenv ${secrets}`, [sops, 'decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', secrets], keyed],
            ['baseline', 'node empty.mjs (ES module entry, no code)', [node, emptyEsm], base],
            ['baseline', 'dotenvx get OPENAI_API_KEY', [node, dotenvx, 'get', 'OPENAI_API_KEY', '-f', plainEnv], base],
            ['key-less', 'keyfleet --help', [node, cli, '--help'], base],
            ['key-less', 'keyfleet ls dev', [node, cli, 'ls', 'dev'], base],
            ['key-less', 'keyfleet validate', [node, cli, 'validate'], base],
            ['key-less', 'keyfleet diff --base HEAD', [node, cli, 'diff', '--base', 'HEAD'], base],
            ['key-less', 'keyfleet registry dev', [node, cli, 'registry', 'dev'], base],
            ['key-less', 'keyfleet scan environments/dev/deployment.yaml', [node, cli, 'scan', 'environments/dev/deployment.yaml'], base],
            ['keyed', 'keyfleet get dev OPENAI_API_KEY', [node, cli, 'get', 'dev', 'OPENAI_API_KEY'], keyed],
            ['keyed', `keyfleet decrypt --input-type dotenv --output-type dotenv ${secrets}`, [node, cli, 'decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', secrets], keyed],
            ['keyed', 'keyfleet check dev', [node, cli, 'check', 'dev'], keyed],
            // `true` as the program: the row measures keyfleet's own start, decrypt and spawn.
            ['keyed', 'keyfleet run dev -- true', [node, cli, 'run', 'dev', '--', 'true'], keyed],
        ]
        // KEYFLEET_BENCH_BEFORE=old/main.js: every keyfleet row again with that build, interleaved in
        // the same run, so a before/after comparison sees the same load (no goal on those rows).
        const cases: readonly Case[] = before === undefined ? current : [
            ...current,
            ...current.filter(([group]) => group !== 'baseline').map(([, label, argv, env]): Case => ['before', `${label} [before]`, argv.map((a) => (a === cli ? before : a)), env]),
        ]
        // Round-robin: run i of every case before run i + 1 of any, so a load swing on a shared
        // machine lands on the baseline and the commands alike instead of on one row.
        progress(`${cases.length} commands x${RUNS}, interleaved, after one warm-up each`)
        for (const [, , argv, env] of cases) once(argv, root, env, rssFile)
        const samples = cases.map(() => [] as Sample[])
        for (let i = 0; i < RUNS; i++) cases.forEach(([, , argv, env], c) => samples[c]?.push(once(argv, root, env, rssFile)))
        const results = cases.map(([group, label], c) => [group, label, summarise(samples[c] ?? [])] as const)
        const nodeRun = results[0]?.[2]
        if (!nodeRun) throw new Error('cold-start: no node baseline')
        const rssGoal = 1.3
        const shortPath = (path: string): string => (path.startsWith(root) ? path.slice(root.length + 1) : path)
        return results.map(([group, label, m]): BenchRow => {
            const ratio = m.median / nodeRun.median
            const limit = group === 'key-less' ? 1.5 : group === 'keyed' ? 2 : undefined
            const rssOk = m.rssMiB === undefined || nodeRun.rssMiB === undefined || m.rssMiB <= rssGoal * nodeRun.rssMiB
            return {
                suite: 'cold-start', name: label, value: m.median, unit: 'ms',
                ...(label === 'node -e 0' ? {} : { baseline: { name: 'node -e 0', value: nodeRun.median }, ratio }),
                ...(limit === undefined ? {} : { goal: `<= ${limit}x node, RSS <= ${rssGoal}x`, met: ratio <= limit && rssOk }),
                runs: { count: RUNS, min: m.min, median: m.median, max: m.max },
                ...(m.rssMiB === undefined ? {} : { peakRssMiB: m.rssMiB }),
                ...(m.cpuMs === undefined ? {} : { cpuMs: m.cpuMs }),
                note: `whole process, median of ${RUNS} (min ${m.min.toFixed(1)}, max ${m.max.toFixed(1)} ms)${m.rssMiB === undefined ? '' : `, peak RSS ${m.rssMiB.toFixed(1)} MiB`}${m.cpuMs === undefined ? '' : `, CPU ${m.cpuMs.toFixed(0)} ms`}; ratio here is value / node -e 0 (lower is better)${label.startsWith('keyfleet') ? `; CLI ${shortPath(group === 'before' ? before ?? cli : cli)}` : ''}`,
            }
        })
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}
