/**
 * What each `keyfleet` command parses at start (issue 15), read from the esbuild metafile that
 * scripts/build-cli.mjs writes beside the bundle (dist/cli.meta.json).
 *
 * A command loads main.js and its static imports, then its own chunk (one `import()` in
 * src/cli/commands/index.ts) and that chunk's static imports; further `import()`s inside the
 * command (the in-process decryptor, for instance) load only on the paths that call them.
 * test/cli/chunks.test.ts asserts on these sets, so a regression shows without timing anything.
 *
 *   node dist/scripts/chunk-graph.js [dist/cli.meta.json]   # prints a markdown table
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The part of esbuild's metafile this reads. */
export interface Metafile {
    readonly outputs: Readonly<Record<string, {
        readonly bytes: number
        readonly entryPoint?: string
        readonly imports: readonly { readonly path: string; readonly kind: string; readonly external?: boolean }[]
        readonly inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>
    }>>
}

/** The files one command loads and the sources bundled in them. */
export interface ChunkSet {
    readonly files: readonly string[]
    readonly bytes: number
    /** Source path (as in the metafile, e.g. `src/cli/run.ts` or `../main/node_modules/yaml/…`) → bytes in the output. */
    readonly inputs: ReadonlyMap<string, number>
}

const closure = (meta: Metafile, start: string, seen: Set<string>, dynamic: boolean): Set<string> => {
    if (seen.has(start)) return seen
    seen.add(start)
    for (const i of meta.outputs[start]?.imports ?? []) {
        if (i.external === true) continue
        if (i.kind === 'import-statement' || (dynamic && i.kind === 'dynamic-import')) closure(meta, i.path, seen, dynamic)
    }
    return seen
}

const toSet = (meta: Metafile, files: Set<string>): ChunkSet => {
    const inputs = new Map<string, number>()
    let bytes = 0
    for (const file of files) {
        const out = meta.outputs[file]
        if (!out) continue
        bytes += out.bytes
        for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) inputs.set(input, (inputs.get(input) ?? 0) + bytesInOutput)
    }
    return { files: [...files].sort(), bytes, inputs }
}

/** The output file whose entry point is `source` (e.g. `src/cli/commands/ls.ts`). */
export const outputFor = (meta: Metafile, source: string): string => {
    const found = Object.entries(meta.outputs).find(([, out]) => out.entryPoint === source)
    if (!found) throw new Error(`no chunk has entry point ${source}`)
    return found[0]
}

/** What `keyfleet --help` loads: main.js and its static imports. */
export const helpSet = (meta: Metafile): ChunkSet => toSet(meta, closure(meta, outputFor(meta, 'src/cli/main.ts'), new Set(), false))

/**
 * What `keyfleet <command>` loads at start (`lazy: false`) or on any path (`lazy: true`, following
 * the command's own `import()`s too).
 * @param command - the module's base name under src/cli/commands/, e.g. `ls` or `hook`.
 */
export const commandSet = (meta: Metafile, command: string, lazy = false): ChunkSet => {
    const main = closure(meta, outputFor(meta, 'src/cli/main.ts'), new Set(), false)
    return toSet(meta, closure(meta, outputFor(meta, `src/cli/commands/${command}.ts`), main, lazy))
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
    const row = (name: string, set: ChunkSet): string =>
        `| ${name} | ${set.files.length} | ${kb(set.bytes)} | ${byPackage(set).filter(([, b]) => b >= 4096).map(([p, b]) => `${p} ${kb(b)}`).join(', ')} |`
    return [
        '| command | files | kB | largest parts (kB) |',
        '|---|---|---|---|',
        row('--help', helpSet(meta)),
        ...commands.flatMap((c) => {
            const start = commandSet(meta, c)
            const lazy = commandSet(meta, c, true)
            return lazy.bytes > start.bytes ? [row(c, start), row(`${c} (with its lazy loads)`, lazy)] : [row(c, start)]
        }),
    ].join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    const file = process.argv[2] ?? join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'cli.meta.json')
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Metafile
    const commands = Object.values(meta.outputs).flatMap((o) => /^src\/cli\/commands\/([a-z-]+)\.ts$/.exec(o.entryPoint ?? '')?.[1] ?? []).filter((c) => c !== 'index').sort()
    console.log(report(meta, commands))
}
