#!/usr/bin/env node
// Bundles the `keyfleet` CLI into dist/cli/main.js (the package's bin) with one
// chunk per command under dist/cli/chunks/ (issue 15, start-up budget).
//
// Why a bundle: an unbundled start resolves and reads ~440 files (yaml alone is
// ~80 CommonJS files), which cost more than the work of `ls` or `get`. One file
// per command plus shared chunks keeps `keyfleet --help` at about `node -e 0`.
// Why split: each command's `import()` in src/cli/commands/index.ts becomes its
// own chunk, so `keyfleet ls` never parses execa, age or kubernetes-models.
// The bundle carries every dependency, so the CLI needs no runtime dependency
// of the package (they are the loader's: see docs/architecture.md).
//
//   node scripts/build-cli.mjs             # writes dist/cli/
//   node scripts/build-cli.mjs --out DIR   # writes DIR/ instead
import { build } from 'esbuild'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outIndex = process.argv.indexOf('--out')
const outDir = outIndex > 0 ? resolve(process.argv[outIndex + 1] ?? '') : join(root, 'dist', 'cli')

// Stale chunks (hashed names) of an earlier build would ship in the package.
rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
const result = await build({
    absWorkingDir: root,
    // Named main.js: `hook install` finds the CLI as ../main.js from its chunk.
    entryPoints: { main: 'src/cli/main.ts' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'linked',
    sourcemap: false,
    minify: false,
    treeShaking: true,
    charset: 'utf8',
    logLevel: 'warning',
    // CommonJS dependencies (yaml) call require() for Node built-ins; ESM output needs a real one.
    banner: { js: "import { createRequire as __kfCreateRequire } from 'node:module';\nconst require = __kfCreateRequire(import.meta.url);" },
})
if (result.errors.length > 0) process.exit(1)
// The bundle is ESM whatever package.json is nearest (a checkout, a global install).
writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
