/**
 * `keyfleet/loader` ships alone: bundling it pulls in no execa, no
 * `@actions/core` and no CLI code. The bundle also runs the one fault that needs
 * a non-root user: `chmod 000` on the source (root reads through it).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { buildSync } from 'esbuild'
import { spawn } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { repoRoot } from '../helpers/tools.js'
import { cleanupTemp, tempDir } from './helpers.js'

afterAll(cleanupTemp)

const bundleLoader = (outDir: string): { file: string; inputs: string[]; imports: Record<string, { path: string; kind: string }[]> } => {
    const file = join(outDir, 'loader.mjs')
    const result = buildSync({
        entryPoints: [join(repoRoot, 'src/loader/index.ts')], bundle: true, platform: 'node', format: 'esm',
        target: 'node20', outfile: file, metafile: true, logLevel: 'silent', absWorkingDir: repoRoot,
        // yaml (used by the native SOPS YAML store) is CommonJS and calls require().
        banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    })
    const imports = Object.fromEntries(Object.entries(result.metafile.inputs).map(([path, input]) => [path, input.imports.map((i) => ({ path: i.path, kind: i.kind }))]))
    return { file, inputs: Object.keys(result.metafile.inputs), imports }
}

describe('keyfleet/loader as a standalone bundle', () => {
    it('imports no execa, @actions/core or CLI code', () => {
        const { inputs } = bundleLoader(tempDir('iso'))
        expect(inputs.some((i) => i.includes('src/loader/index.ts'))).toBe(true)
        expect(inputs.filter((i) => /node_modules\/(execa|@actions)\/|src\/cli\/|src\/sops\/(run|binary|commands)\.ts/.test(i))).toEqual([])
    })

    it('loads the live check (src/probe) only by dynamic import, and src/probe imports nothing beyond catalog, errors, findings and node built-ins', () => {
        const { imports } = bundleLoader(tempDir('iso'))
        const probeFiles = Object.keys(imports).filter((p) => p.startsWith('src/probe/'))
        expect(probeFiles).toContain('src/probe/check.ts')
        // Who imports src/probe, and how: only the loader's check module, lazily.
        const edges = Object.entries(imports).flatMap(([from, list]) => list.filter((i) => i.path.startsWith('src/probe/') && !from.startsWith('src/probe/')).map((i) => `${from} ${i.kind}`))
        expect(edges).toEqual(['src/loader/check.ts dynamic-import'])
        for (const file of probeFiles) {
            const outside = (imports[file] ?? []).map((i) => i.path)
                .filter((p) => !/^(src\/probe\/|src\/catalog\/|src\/errors\.ts$|src\/findings\.ts$|node:)/.test(p))
            expect(outside, file).toEqual([])
        }
    })

    it('serves the last good keys through chmod 000 and recovers when the mode is restored (as an unprivileged user)', async () => {
        const dir = tempDir('iso')
        chmodSync(dir, 0o755)
        const { file: bundle } = bundleLoader(dir)
        const source = join(dir, 'agent.env')
        writeFileSync(source, 'OPENAI_API_KEY=sk-proj-before-chmod-000000000001\n', { mode: 0o644 })
        const child = join(dir, 'child.mjs')
        writeFileSync(child, [
            `import { openKeys } from ${JSON.stringify(bundle)}`,
            `const keys = await openKeys({ path: ${JSON.stringify(source)}, env: {}, pollIntervalMs: 20 })`,
            `const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n')`,
            `keys.on('error', (e) => say({ event: 'error', code: e.code, value: keys.get('openai') }))`,
            `keys.on('change', (e) => { say({ event: 'change', names: e.names, value: keys.get('openai') }); keys.close() })`,
            `say({ event: 'ready', value: keys.get('openai') })`,
            `setTimeout(() => process.exit(2), 20000)`,
        ].join('\n'), { mode: 0o644 })
        chmodSync(child, 0o644)
        const proc = spawn(process.execPath, [child], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'inherit'], cwd: dir })
        const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]()
        const next = async (): Promise<Record<string, unknown>> => JSON.parse((await lines.next()).value as string) as Record<string, unknown>
        try {
            expect(await next()).toEqual({ event: 'ready', value: 'sk-proj-before-chmod-000000000001' })
            chmodSync(source, 0o000)
            expect(await next()).toEqual({ event: 'error', code: 'LOADER_SOURCE_UNREADABLE', value: 'sk-proj-before-chmod-000000000001' })
            writeFileSync(source, 'OPENAI_API_KEY=sk-proj-after-chmod-0000000000002\n')
            chmodSync(source, 0o644)
            expect(await next()).toEqual({ event: 'change', names: ['OPENAI_API_KEY'], value: 'sk-proj-after-chmod-0000000000002' })
        } finally {
            proc.kill()
        }
    })
})
