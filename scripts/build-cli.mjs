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
// Each writes the esbuild metafile beside the directory (dist/cli.meta.json, DIR.meta.json).
import { build, transform } from 'esbuild'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const requireHere = createRequire(import.meta.url)

/**
 * Start-up budget (issue 15): what a command's chunks hold is what it parses at start.
 * - yaml ships CommonJS for node (which esbuild cannot tree-shake) and the same code as ESM
 *   for other platforms (`yaml/browser`): bundling the ESM build keeps only what is used. The
 *   two differ in two places only: the node build sends warnings to process.emitWarning instead
 *   of console.warn, and prints every token to stdout when LOG_TOKENS / LOG_STREAM is set,
 *   which a CLI handling secrets must not do anyway.
 * - age-encryption declares no `sideEffects` field although its modules only declare
 *   (with esbuild's PURE annotations): marked side-effect free, `import { armor }` no longer
 *   drags in its post-quantum and P-256 code.
 */
const yamlEsm = join(dirname(requireHere.resolve('yaml/package.json')), 'browser', 'index.js')
/**
 * - yaml (127 kB) is not parsed at start either: keyfleet's own files are read by the exact fast path
 *   of src/yaml-fast.ts, so `ls`, `get`, `run`, `registry` never call the package. Its `import` becomes
 *   a stand-in like re2js's (below), loading yaml.cjs (that same ESM build, bundled to one CommonJS
 *   file) on first use; src/yaml-source.ts and the sops YAML store call it synchronously.
 *   `import YAML from 'yaml'` (the default export) is not offered: the build fails if anything uses it.
 */
const YAML_LAZY = 'kf-yaml-lazy'
const yamlNames = Object.keys(await import(yamlEsm)).filter((name) => name !== 'default')
/**
 * - re2js (183 kB of the 415 kB `ls` parsed at start) is needed only when a pattern is compiled, and
 *   `ls`, `get`, `run`, `registry` compile none (catalog formats and keyfleet's own `.sops.yaml` rules
 *   are checked without it, src/catalog/pattern-syntax.ts, src/validate/path-rule.ts). Its `import`
 *   becomes a stand-in whose first property read loads the package's own CommonJS build, shipped
 *   beside the chunk as re2js.cjs, with require(): the same code, parsed only by commands that use it.
 *   src/re2.ts compiles synchronously, which rules out a dynamic import().
 */
const re2jsCjs = join(dirname(requireHere.resolve('re2js')), 'index.cjs')
const RE2JS_LAZY = 'kf-re2js-lazy'
/** A module whose exports forward to `file` (beside the chunk), required on the first use of any of them. */
const lazyModule = (file, names) => lazyExports(`process.getBuiltinModule('node:module').createRequire(import.meta.url)(${JSON.stringify(`./${file}`)})`, names)
/** A module whose exports forward to the value of `expression`, evaluated on the first use of any of them. */
const lazyExports = (expression, names) => ({
    loader: 'js',
    contents: [
        'let real',
        `const load = () => (real ??= ${expression})`,
        // Each a stand-in that forwards reads, calls and `new` (keeping new.target, so `instanceof` and subclasses work).
        ...names.map((name) => `export const ${name} = new Proxy(function () {}, { get: (_, key) => load().${name}[key], apply: (_, self, args) => load().${name}.apply(self, args), construct: (_, args, target) => Reflect.construct(load().${name}, args, target) })`),
    ].join('\n'),
})
const CRYPTO_LAZY = 'kf-crypto-lazy'
// The names keyfleet imports (a name missing here fails the build: "No matching export"), as plain functions.
const cryptoNames = ['createDecipheriv', 'createHash', 'createHmac', 'createPrivateKey', 'createPublicKey', 'diffieHellman', 'generateKeyPairSync', 'hkdfSync', 'randomBytes', 'sign', 'timingSafeEqual', 'verify']
const lazyFunctions = (expression, names) => ({
    loader: 'js',
    contents: ['let real', `const load = () => (real ??= ${expression})`, ...names.map((name) => `export const ${name} = (...args) => load().${name}(...args)`)].join('\n'),
})
const startupPlugin = {
    name: 'keyfleet-startup',
    setup(b) {
        b.onResolve({ filter: /^yaml$/ }, () => ({ path: 'yaml', namespace: YAML_LAZY }))
        b.onLoad({ filter: /.*/, namespace: YAML_LAZY }, () => lazyModule('yaml.cjs', yamlNames))
        // `import { randomBytes } from 'node:crypto'` in ESM builds a namespace of every export,
        // running node's lazy getters (webcrypto, fs.promises, util.MIMEType …) at start. As a
        // require() the module object is shared and esbuild reads each property where it is used.
        // A dynamic import (serveStatus's lazy node:http) stays a native import: through the require
        // wrapper its named exports would be missing.
        // node:crypto costs ~16 of node's internal modules (3-4 ms) on first require, and `ls`, `registry` or
        // `--help` hash nothing: every keyfleet import of it is a function (createHash, randomBytes …), so it
        // becomes stand-ins that ask node for the module on their first call.
        b.onResolve({ filter: /^node:crypto$/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: CRYPTO_LAZY } : undefined))
        b.onLoad({ filter: /.*/, namespace: CRYPTO_LAZY }, () => lazyFunctions("process.getBuiltinModule('node:crypto')", cryptoNames))
        b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'require-call' || args.kind === 'dynamic-import' ? { path: args.path, external: true } : { path: args.path, namespace: 'kf-builtin' }))
        b.onLoad({ filter: /.*/, namespace: 'kf-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)})`, loader: 'js' }))
        b.onResolve({ filter: /^re2js$/ }, () => ({ path: 're2js', namespace: RE2JS_LAZY }))
        // Every export of the package, each a stand-in that forwards to the real one once loaded.
        b.onLoad({ filter: /.*/, namespace: RE2JS_LAZY }, () => lazyModule('re2js.cjs', Object.keys(requireHere(re2jsCjs))))
        const ageDir = `${sep}node_modules${sep}age-encryption${sep}`
        b.onResolve({ filter: /^(age-encryption$|\.\.?\/)/ }, async (args) => {
            if (args.pluginData === 'inner' || (args.path !== 'age-encryption' && !args.importer.includes(ageDir))) return undefined
            const found = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' })
            return found.errors.length > 0 ? undefined : { path: found.path, external: found.external, sideEffects: false }
        })
    },
}
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
    // A third fewer bytes to parse at start (re2js 268 → 183 kB, yaml 205 → 135 kB). Identifiers
    // stay: the CLI reports an unexpected error by its class name (cli/run.ts).
    minifyWhitespace: true,
    minifySyntax: true,
    treeShaking: true,
    charset: 'utf8',
    logLevel: 'warning',
    plugins: [startupPlugin],
    // Which sources each chunk holds: test/cli/chunks.test.ts and scripts/chunk-report.mjs read it.
    metafile: true,
    // CommonJS dependencies call require() for Node built-ins; ESM output needs a real one.
    // Everything but node's built-ins is bundled, so require() only ever asks for a built-in:
    // process.getBuiltinModule (node >= 20.16) answers that without createRequire(), whose
    // node_modules path walk in every chunk cost more than some chunks' own code.
    banner: { js: "const require = (id) => { const m = process.getBuiltinModule(id); if (m === undefined) throw new Error(`keyfleet bundle: ${id} is not a node built-in`); return m };" },
})
if (result.errors.length > 0) process.exit(1)
// re2js.cjs beside the chunk that holds the stand-in (its require() is relative to that chunk).
const re2Host = Object.entries(result.metafile.outputs).find(([, o]) => Object.keys(o.inputs).some((i) => i.startsWith(`${RE2JS_LAZY}:`)))?.[0]
if (re2Host !== undefined) {
    const minified = await transform(readFileSync(re2jsCjs, 'utf8'), { loader: 'js', format: 'cjs', minifyWhitespace: true, minifySyntax: true, legalComments: 'inline', target: 'node20' })
    writeFileSync(join(root, dirname(re2Host), 're2js.cjs'), minified.code)
}
// yaml.cjs beside the chunk that holds its stand-in: the package's ESM build (as the bundle used before), as one CommonJS file.
const yamlHost = Object.entries(result.metafile.outputs).find(([, o]) => Object.keys(o.inputs).some((i) => i.startsWith(`${YAML_LAZY}:`)))?.[0]
if (yamlHost !== undefined) {
    await build({ entryPoints: [yamlEsm], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: join(root, dirname(yamlHost), 'yaml.cjs'), minifyWhitespace: true, minifySyntax: true, legalComments: 'inline', charset: 'utf8', logLevel: 'warning' })
}
// The bundle is ESM whatever package.json is nearest (a checkout, a global install).
writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
// Beside the bundle, not in it (the package ships dist/cli/ only).
writeFileSync(`${outDir}.meta.json`, JSON.stringify(result.metafile))
