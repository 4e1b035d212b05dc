/**
 * What each `keyfleet` command initialises at start (issue 15), read from the esbuild metafile that
 * scripts/build-cli.mjs writes beside the bundle (dist/cli.meta.json).
 *
 * A command loads main.js and its own file (dist/cli/cmd/NAME.js, one `import()` in
 * src/cli/commands/index.ts that the bundle loader answers). In each file a source runs at start when
 * the entry reaches it through static imports (or a require); one reached only through an `import()`
 * (the in-process decryptor, execa, age …) is in the file but runs only on the paths that call it.
 * test/cli/chunks.test.ts asserts on these sets, and checks them against V8's own call counts.
 *
 *   node dist/scripts/chunk-graph.js [dist/cli.meta.json]   # prints a markdown table
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One import as esbuild's metafile records it. */
interface MetaImport { readonly path: string; readonly kind: string; readonly external?: boolean }

/** The part of esbuild's metafile this reads. */
export interface Metafile {
    readonly inputs: Readonly<Record<string, { readonly bytes: number; readonly imports: readonly MetaImport[] }>>
    readonly outputs: Readonly<Record<string, {
        readonly bytes: number
        readonly entryPoint?: string
        readonly imports: readonly MetaImport[]
        readonly inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>
    }>>
}

/** The files one command loads and the sources that run at start (or, with `lazy`, may run). */
export interface ChunkSet {
    readonly files: readonly string[]
    /** Bytes of those files. */
    readonly bytes: number
    /** Source path (as in the metafile, e.g. `src/cli/run.ts` or `node_modules/yaml/…`) → its bytes in the output. */
    readonly inputs: ReadonlyMap<string, number>
}

/** Sources `start` reaches through static imports and requires (not `import()`). */
const staticClosure = (meta: Metafile, start: string, seen = new Set<string>()): Set<string> => {
    const stack = [start]
    while (stack.length > 0) {
        const input = stack.pop() as string
        if (seen.has(input)) continue
        seen.add(input)
        for (const i of meta.inputs[input]?.imports ?? []) {
            if (i.external !== true && (i.kind === 'import-statement' || i.kind === 'require-call')) stack.push(i.path)
        }
    }
    return seen
}

/** The output file whose entry point is `source` (e.g. `src/cli/commands/ls.ts`). */
export const outputFor = (meta: Metafile, source: string): string => {
    const found = Object.entries(meta.outputs).find(([, out]) => out.entryPoint === source)
    if (!found) throw new Error(`no output has entry point ${source}`)
    return found[0]
}

const toSet = (meta: Metafile, files: readonly string[], sources: ReadonlySet<string> | undefined): ChunkSet => {
    const inputs = new Map<string, number>()
    for (const file of files) {
        for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[file]?.inputs ?? {})) {
            if (sources === undefined || sources.has(input)) inputs.set(input, bytesInOutput)
        }
    }
    return { files: [...files].sort(), bytes: files.reduce((n, f) => n + (meta.outputs[f]?.bytes ?? 0), 0), inputs }
}

/** What `keyfleet --help` runs: main.js's static graph. */
export const helpSet = (meta: Metafile): ChunkSet => toSet(meta, [outputFor(meta, 'src/cli/main.ts')], staticClosure(meta, 'src/cli/main.ts'))

/**
 * What `keyfleet <command>` runs at start (`lazy: false`), or everything its file holds (`lazy: true`:
 * every path, the command's own `import()`s too).
 * @param command - the module's base name under src/cli/commands/, e.g. `ls` or `hook`.
 */
export const commandSet = (meta: Metafile, command: string, lazy = false): ChunkSet => {
    const entry = `src/cli/commands/${command}.ts`
    const files = [outputFor(meta, 'src/cli/main.ts'), outputFor(meta, entry)]
    if (lazy) return toSet(meta, files, undefined)
    return toSet(meta, files, staticClosure(meta, entry, staticClosure(meta, 'src/cli/main.ts')))
}

/** The npm package a metafile input belongs to, or its path under src/ for our own code. */
export const packageOf = (input: string): string => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
    return m?.[1] ?? input
}

/** kB per package (and our own sources as `src`), largest first. */
export const byPackage = (set: ChunkSet): [string, number][] => {
    const out = new Map<string, number>()
    for (const [input, bytes] of set.inputs) {
        const key = input.includes('node_modules/') ? packageOf(input) : 'src'
        out.set(key, (out.get(key) ?? 0) + bytes)
    }
    return [...out].sort((a, b) => b[1] - a[1])
}

const report = (meta: Metafile, commands: readonly string[]): string => {
    const kb = (n: number): string => (n / 1024).toFixed(0)
    const sum = (set: ChunkSet): number => [...set.inputs.values()].reduce((n, b) => n + b, 0)
    const row = (name: string, set: ChunkSet): string =>
        `| ${name} | ${kb(set.bytes)} | ${kb(sum(set))} | ${byPackage(set).filter(([, b]) => b >= 4096).map(([p, b]) => `${p} ${kb(b)}`).join(', ')} |`
    return [
        '| command | files (kB) | runs at start (kB) | largest parts that run (kB) |',
        '|---|---|---|---|',
        row('--help', helpSet(meta)),
        ...commands.flatMap((c) => {
            const start = commandSet(meta, c)
            const lazy = commandSet(meta, c, true)
            return lazy.inputs.size > start.inputs.size ? [row(c, start), row(`${c} (every path)`, lazy)] : [row(c, start)]
        }),
    ].join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    const file = process.argv[2] ?? join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'cli.meta.json')
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Metafile
    const commands = Object.values(meta.outputs).flatMap((o) => /^src\/cli\/commands\/([a-z-]+)\.ts$/.exec(o.entryPoint ?? '')?.[1] ?? []).filter((c) => c !== 'index').sort()
    console.log(report(meta, commands))
}
