#!/usr/bin/env node
// Bundles the `keyfleet` CLI into dist/cli/main.js (the package's bin: --help, the matcher, the
// error report) and one bundle per command, dist/cli/cmd/NAME/index.js, each with the chunks of
// its own lazy imports beside it (issue 15, start-up budget; docs/architecture.md says why).
//
// Why a bundle: an unbundled start resolves and reads ~440 files (yaml alone is ~80 CommonJS
// files), which cost more than the work of `ls` or `get`.
// Why one per command: one split build made `ls` load 20 small chunk files, and node's work per ES
// module cost more than their code; a command's start is now one file.
// The bundles carry every dependency, so the CLI needs no runtime dependency of the package
// (they are the loader's: see docs/architecture.md).
//
//   node scripts/build-cli.mjs             # writes dist/cli/
//   node scripts/build-cli.mjs --out DIR   # writes DIR/ instead
// Each writes one esbuild metafile for all its builds beside the directory (dist/cli.meta.json, DIR.meta.json).
import { build, transform } from 'esbuild'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
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
 *   in dist/cli/ as re2js.cjs, with require(): the same code, parsed only by commands that use it.
 *   src/re2.ts compiles synchronously, which rules out a dynamic import().
 */
const re2jsCjs = join(dirname(requireHere.resolve('re2js')), 'index.cjs')
const RE2JS_LAZY = 'kf-re2js-lazy'
/** A module whose exports forward to `file` (in dist/cli/, two levels up from every command bundle output), required on the first use of any of them. */
const lazyModule = (file, names) => lazyExports(`process.getBuiltinModule('node:module').createRequire(import.meta.url)(${JSON.stringify(`${UP}${file}`)})`, names)
/** From every output of a command's bundle (dist/cli/cmd/NAME/) to dist/cli/, where main.js, yaml.cjs and re2js.cjs are. */
const UP = '../../'
/** A stand-in export that forwards reads, calls and `new` (keeping new.target, so `instanceof` and subclasses work). */
const proxyExport = (name) => `export const ${name} = new Proxy(function () {}, { get: (_, key) => load().${name}[key], apply: (_, self, args) => load().${name}.apply(self, args), construct: (_, args, target) => Reflect.construct(load().${name}, args, target) })`
/** A stand-in export for a plain function: a call forwards its arguments. */
const functionExport = (name) => `export const ${name} = (...args) => load().${name}(...args)`
/** A module whose exports (each made by `exportOf`) forward to the value of `expression`, evaluated on the first use of any of them. */
const lazyExports = (expression, names, exportOf = proxyExport) => ({
    loader: 'js',
    contents: ['let real', `const load = () => (real ??= ${expression})`, ...names.map(exportOf)].join('\n'),
})
const CRYPTO_LAZY = 'kf-crypto-lazy'
// The names keyfleet imports (a name missing here fails the build: "No matching export"), all plain functions.
const cryptoNames = ['createDecipheriv', 'createHash', 'createHmac', 'createPrivateKey', 'createPublicKey', 'diffieHellman', 'generateKeyPairSync', 'hkdfSync', 'randomBytes', 'sign', 'timingSafeEqual', 'verify']
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
        b.onLoad({ filter: /.*/, namespace: CRYPTO_LAZY }, () => lazyExports("process.getBuiltinModule('node:crypto')", cryptoNames, functionExport))
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

/** The command modules src/cli/commands/index.ts loads, by base name (`ls`, `hook`, `rollout` …). */
const commandFiles = [...readFileSync(join(root, 'src/cli/commands/index.ts'), 'utf8').matchAll(/import\('\.\/([a-z0-9-]+)\.js'\)/g)].map((m) => m[1])
/**
 * main.js loads a command from its own bundle (dist/cli/cmd/NAME/index.js): the `import()`s of
 * src/cli/commands/index.ts become those paths, external to main's build.
 */
const commandsExternal = {
    name: 'keyfleet-commands',
    setup(b) {
        b.onResolve({ filter: /^\.\/[a-z0-9-]+\.js$/ }, (args) => (args.kind === 'dynamic-import' && args.importer.endsWith(join('src', 'cli', 'commands', 'index.ts'))
            ? { path: `./cmd/${args.path.slice(2, -3)}/index.js`, external: true } : undefined))
    },
}

const common = {
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    legalComments: 'linked',
    sourcemap: false,
    // A third fewer bytes to parse at start (re2js 268 → 183 kB, yaml 205 → 135 kB). Identifiers
    // stay: the CLI reports an unexpected error by its class name (cli/run.ts).
    minifyWhitespace: true,
    minifySyntax: true,
    treeShaking: true,
    charset: 'utf8',
    logLevel: 'warning',
    // Which sources each chunk holds: test/cli/chunks.test.ts and scripts/chunk-report.mjs read it.
    metafile: true,
    // CommonJS dependencies call require() for Node built-ins; ESM output needs a real one.
    // Everything but node's built-ins is bundled, so require() only ever asks for a built-in:
    // process.getBuiltinModule (node >= 20.16) answers that without createRequire(), whose
    // node_modules path walk in every chunk cost more than some chunks' own code.
    banner: { js: "const require = (id) => { const m = process.getBuiltinModule(id); if (m === undefined) throw new Error(`keyfleet bundle: ${id} is not a node built-in`); return m };" },
}

// Stale chunks (hashed names) of an earlier build would ship in the package.
rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
/**
 * Why one bundle per command (issue 15): with one split build, `ls` loaded 20 chunk files, and
 * node's work per ES module (resolve, read, compile, link) cost ~20 ms more than the same code
 * as one file. So each command is its own build: its start is one file, and what it imports
 * only on some paths (execa, age, kubernetes-models …) stays in chunks beside it. The shared
 * modules (errors, the args parser) exist once per bundle; nothing relies on one copy:
 * errors are recognised by a registered symbol and repo/atomic.ts keeps its registry per process.
 */
const builds = await Promise.all([
    // Named main.js: the package's bin. It holds --help, the matcher and the error report.
    build({ ...common, entryPoints: { main: 'src/cli/main.ts' }, outdir: outDir, chunkNames: 'chunks/[name]-[hash]', plugins: [commandsExternal, startupPlugin] }),
    ...commandFiles.map((name) => build({
        ...common, entryPoints: { index: `src/cli/commands/${name}.ts` }, outdir: join(outDir, 'cmd', name), chunkNames: '[name]-[hash]',
        plugins: [startupPlugin], define: { KEYFLEET_MAIN_FROM_COMMAND: JSON.stringify(`${UP}main.js`) },
    })),
])
if (builds.some((r) => r.errors.length > 0)) process.exit(1)
const [mainBuild] = builds
// Every command main.js may load is a bundle built here (a load the regex above missed would fail at run time).
/** The command an import of main's build loads (`./cmd/NAME/index.js`, external), or undefined. */
const commandOf = (i) => (i.external ? /^\.\/cmd\/([a-z0-9-]+)\/index\.js$/.exec(i.path)?.[1] : undefined)
const loaded = new Set(Object.values(mainBuild.metafile.outputs).flatMap((o) => o.imports.map(commandOf).filter((name) => name !== undefined)))
const missing = [...loaded].filter((name) => !commandFiles.includes(name))
if (missing.length > 0 || loaded.size !== commandFiles.length) throw new Error(`build-cli: main.js loads ${[...loaded].join(', ')}; built ${commandFiles.join(', ')}`)
const mainOut = Object.entries(mainBuild.metafile.outputs).find(([, o]) => o.entryPoint === 'src/cli/main.ts')
// The command paths are relative to main.js: the matcher must be in it, not in a chunk.
if (!mainOut || !Object.keys(mainOut[1].inputs).includes('src/cli/commands/index.ts')) throw new Error('build-cli: src/cli/commands/index.ts is not in main.js')
/**
 * One metafile for all of it, as one split build would write it: main.js's external command
 * imports become dynamic imports of the command bundles' entries (scripts/chunk-graph.ts).
 */
const outputs = {}
for (const r of builds) Object.assign(outputs, r.metafile.outputs)
const rel = (file) => relative(root, file).split(sep).join('/')
outputs[mainOut[0]] = {
    ...mainOut[1],
    imports: mainOut[1].imports.map((i) => {
        const name = commandOf(i)
        return name === undefined ? i : { path: rel(join(outDir, 'cmd', name, 'index.js')), kind: 'dynamic-import' }
    }),
}
const metafile = { inputs: Object.assign({}, ...builds.map((r) => r.metafile.inputs)), outputs }
/** Whether any of `outs` holds the stand-in module of `namespace`. */
const usesLazy = (namespace, outs = outputs) => Object.values(outs).some((o) => Object.keys(o.inputs).some((i) => i.startsWith(`${namespace}:`)))
// The stand-ins' paths hold from cmd/NAME/ only: main.js and its chunks must not need yaml or re2js.
if (usesLazy(YAML_LAZY, mainBuild.metafile.outputs) || usesLazy(RE2JS_LAZY, mainBuild.metafile.outputs)) throw new Error('build-cli: main.js would load yaml or re2js; keep them behind a command')
// re2js.cjs and yaml.cjs once, in dist/cli/ (the stand-ins require them as ../../NAME.cjs).
if (usesLazy(RE2JS_LAZY)) {
    const minified = await transform(readFileSync(re2jsCjs, 'utf8'), { loader: 'js', format: 'cjs', minifyWhitespace: true, minifySyntax: true, legalComments: 'inline', target: 'node20' })
    writeFileSync(join(outDir, 're2js.cjs'), minified.code)
}
// yaml.cjs: the package's ESM build (as the bundle used before), as one CommonJS file.
if (usesLazy(YAML_LAZY)) {
    await build({ entryPoints: [yamlEsm], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: join(outDir, 'yaml.cjs'), minifyWhitespace: true, minifySyntax: true, legalComments: 'inline', charset: 'utf8', logLevel: 'warning' })
}
// The bundle is ESM whatever package.json is nearest (a checkout, a global install).
writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
// Beside the bundle, not in it (the package ships dist/cli/ only).
writeFileSync(`${outDir}.meta.json`, JSON.stringify(metafile))
