#!/usr/bin/env node
// Bundles the `keyfleet` CLI into dist/cli/main.js (the package's bin: --help, the matcher, the
// error report) and one file per command, dist/cli/cmd/NAME.js, each with the V8 code cache of its
// code beside it (NAME.js.cache). Issue 15, start-up budget; docs/architecture.md says why.
//
// Why a bundle: an unbundled start resolves and reads ~440 files (yaml alone is ~80 CommonJS
// files), which cost more than the work of `ls` or `get`.
// Why one file per command: one split build made `ls` load 20 small chunk files, and node's work
// per ES module cost more than their code.
// Why CommonJS and a code cache: node 20 caches no compiled code for ES modules, and its ES module
// loader costs a few ms before any code runs. A command file is one function expression that
// src/cli/bundle-load.ts compiles with `vm.Script` and the cache, which holds every function of the
// file compiled (built with V8's eager compilation): at start V8 deserialises instead of parsing and
// compiling. Code a command imports only on some paths (execa, age, kubernetes-models …) is in the
// same file but runs (initialises) only when that path is taken; the metafile's import graph says
// which sources initialise at start (scripts/chunk-graph.ts).
// The bundles carry every dependency, so the CLI needs no runtime dependency of the package
// (they are the loader's: see docs/architecture.md).
//
//   node scripts/build-cli.mjs             # writes dist/cli/
//   node scripts/build-cli.mjs --out DIR   # writes DIR/ instead
// Each writes one esbuild metafile for all its builds beside the directory (dist/cli.meta.json, DIR.meta.json).
import { build, transform } from 'esbuild'
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { Script } from 'node:vm'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeCache } from '../dist/src/cli/bundle-load.js'

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
/** A module whose exports forward to `file` (in dist/cli/), loaded through the bundle loader on the first use of any of them. */
const lazyModule = (file, names) => lazyExports(`${LOAD}(${JSON.stringify(file)})`, names)
/**
 * Every bundle file but main.js is this function expression (src/cli/bundle-load.ts calls it): node's
 * CommonJS parameters, then the loader, which also knows where main.js is (`LOAD.main`).
 */
const LOAD = '__kfLoad'
const WRAP = { banner: { js: `(function (exports, require, module, __filename, __dirname, ${LOAD}) {` }, footer: { js: '})' } }
/**
 * For a package written as ES modules (yaml, age-encryption, execa): strict mode, as it ran as ESM. esbuild
 * adds no "use strict" to CommonJS output of JavaScript ESM (our TypeScript gets it from tsconfig's strict).
 */
const STRICT_WRAP = { banner: { js: `${WRAP.banner.js}"use strict";` }, footer: WRAP.footer }
/** A stand-in export that forwards reads, calls and `new` (keeping new.target, so `instanceof` and subclasses work). */
const proxyExport = (name) => `export const ${name} = new Proxy(function () {}, { get: (_, key) => load().${name}[key], apply: (_, self, args) => load().${name}.apply(self, args), construct: (_, args, target) => Reflect.construct(load().${name}, args, target) })`
/** A stand-in export for a plain function: a call forwards its arguments. */
const functionExport = (name) => `export const ${name} = (...args) => load().${name}(...args)`
/** A module whose exports (each made by `exportOf`) forward to the value of `expression`, evaluated on the first use of any of them. */
const lazyExports = (expression, names, exportOf = proxyExport) => ({
    loader: 'js',
    contents: ['let real', `const load = () => (real ??= ${expression})`, ...names.map(exportOf)].join('\n'),
})
/**
 * - age-encryption and execa are each one file too (age.cjs, execa.cjs), loaded through stand-ins on first
 *   use: a command reaches them only on some paths (a hybrid key, a sealed bundle, a sops call), and in
 *   every command's file they were a third to a half of its bytes and of its code cache (decrypt: 552 kB,
 *   a 1.2 MB cache). One shared copy each instead of one per command. Only the names keyfleet imports are
 *   offered (a missing one fails the build: "No matching export"); neither package keeps state keyfleet shares.
 */
const AGE_LAZY = 'kf-age-lazy'
const ageNames = ['Decrypter', 'Encrypter', 'armor', 'generateHybridIdentity', 'generateX25519Identity', 'identityToRecipient']
const EXECA_LAZY = 'kf-execa-lazy'
const execaNames = ['execa']
/**
 * The packages shipped as their own file beside the commands (`import X from pkg` in our sources), each
 * loaded by its stand-ins on first use. yaml's entry is its ESM build (`yamlEsm`, above).
 */
const PACKAGE_FILES = [
    { pkg: 'yaml', namespace: YAML_LAZY, file: 'yaml.cjs', names: yamlNames, from: yamlEsm },
    { pkg: 'age-encryption', namespace: AGE_LAZY, file: 'age.cjs', names: ageNames, from: 'age-encryption' },
    { pkg: 'execa', namespace: EXECA_LAZY, file: 'execa.cjs', names: execaNames, from: 'execa' },
]
const BUILTIN_LAZY = 'kf-builtin-lazy'
/**
 * Built-ins a command may import but often never calls, each costing node internal modules on first
 * require: node:crypto ~16 (3-4 ms; `ls`, `registry`, `--help` hash nothing), node:child_process its
 * net, dgram and stream wrappers (`scan FILE` spawns nothing), node:fs/promises its readline interface.
 * Every keyfleet import of them is a function, so each becomes a stand-in that asks node for the module
 * on its first call. The names keyfleet imports (a name missing here fails the build: "No matching export").
 */
const LAZY_BUILTINS = {
    'node:crypto': ['createDecipheriv', 'createHash', 'createHmac', 'createPrivateKey', 'createPublicKey', 'diffieHellman', 'generateKeyPairSync', 'hkdfSync', 'randomBytes', 'sign', 'timingSafeEqual', 'verify'],
    'node:child_process': ['spawn'],
    'node:fs/promises': ['chmod', 'lstat', 'mkdir', 'open', 'readFile', 'readdir', 'rename', 'rm', 'rmdir'],
}
const startupPlugin = {
    name: 'keyfleet-startup',
    setup(b) {
        b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' && args.path in LAZY_BUILTINS ? { path: args.path, namespace: BUILTIN_LAZY } : undefined))
        b.onLoad({ filter: /.*/, namespace: BUILTIN_LAZY }, (args) => lazyExports(`process.getBuiltinModule(${JSON.stringify(args.path)})`, LAZY_BUILTINS[args.path], functionExport))
        // A static import of a built-in stays a require() of it: in CommonJS output esbuild reads each named
        // import as a property of node's own module object where it is used. A dynamic import (serveStatus's
        // lazy node:http) becomes a require() too, through a module that esbuild bundles like any import():
        // bundle files run in vm.Script, where a native import() is not theirs to make.
        b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'kf-builtin' } : { path: args.path, external: true }))
        b.onLoad({ filter: /.*/, namespace: 'kf-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)})`, loader: 'js' }))
        b.onResolve({ filter: /^re2js$/ }, () => ({ path: 're2js', namespace: RE2JS_LAZY }))
        // Every export of the package, each a stand-in that forwards to the real one once loaded.
        b.onLoad({ filter: /.*/, namespace: RE2JS_LAZY }, () => lazyModule('re2js.cjs', Object.keys(requireHere(re2jsCjs))))
        for (const { pkg, namespace, file, names } of PACKAGE_FILES) {
            b.onResolve({ filter: new RegExp(`^${pkg}$`) }, () => ({ path: pkg, namespace }))
            b.onLoad({ filter: /.*/, namespace }, () => lazyModule(file, names))
        }
    },
}
/** For age.cjs: age-encryption marked side-effect free (above), so that only what keyfleet imports is kept. */
const ageTreeShake = {
    name: 'keyfleet-age-tree-shake',
    setup(b) {
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
 * main.js loads a command from its own file (dist/cli/cmd/NAME.js) through the bundle loader: each
 * `import()` of src/cli/commands/index.ts becomes a module that does so.
 */
const bundleLoad = join(root, 'src', 'cli', 'bundle-load.ts')
const CMD = 'kf-cmd'
const commandsThroughLoader = {
    name: 'keyfleet-commands',
    setup(b) {
        b.onResolve({ filter: /^\.\/[a-z0-9-]+\.js$/ }, (args) => (args.kind === 'dynamic-import' && args.importer.endsWith(join('src', 'cli', 'commands', 'index.ts'))
            ? { path: args.path.slice(2, -3), namespace: CMD } : undefined))
        b.onLoad({ filter: /.*/, namespace: CMD }, (args) => ({
            loader: 'js', resolveDir: root,
            contents: `module.exports = require(${JSON.stringify(bundleLoad)}).bundleLoader(__dirname)(${JSON.stringify(`cmd/${args.path}.js`)})`,
        }))
    },
}

const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The licence notices of what is bundled stay in the file that holds it.
    legalComments: 'inline',
    sourcemap: false,
    // A third fewer bytes to read (re2js 268 → 183 kB, yaml 205 → 135 kB). Identifiers stay: the CLI
    // reports an unexpected error by its class name (cli/run.ts).
    minifyWhitespace: true,
    minifySyntax: true,
    treeShaking: true,
    charset: 'utf8',
    logLevel: 'warning',
    // Which sources each file holds and how they import each other: test/cli/chunks.test.ts and scripts/chunk-graph.ts read it.
    metafile: true,
    // `import.meta.url` (the tsc build's way to find files beside a module) in CommonJS: the bundle file's own URL.
    inject: [join(root, 'scripts', 'import-meta-url.js')],
    define: { 'import.meta.url': 'importMetaUrl' },
}

// Stale files of an earlier build would ship in the package.
rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
const builds = await Promise.all([
    // Named main.js: the package's bin, loaded by node itself. It holds --help, the matcher and the error report.
    build({ ...common, entryPoints: [join(root, 'src/cli/main.ts')], outfile: join(outDir, 'main.js'), plugins: [commandsThroughLoader, startupPlugin] }),
    ...commandFiles.map((name) => build({
        ...common, ...WRAP, entryPoints: [join(root, `src/cli/commands/${name}.ts`)], outfile: join(outDir, 'cmd', `${name}.js`),
        plugins: [startupPlugin], define: { ...common.define, KEYFLEET_BUNDLE_MAIN: `${LOAD}.main` },
    })),
])
if (builds.some((r) => r.errors.length > 0 || r.warnings.length > 0)) throw new Error('build-cli: esbuild reported errors or warnings (above)')
const [mainBuild] = builds
// Every command main.js may load is a file built here (a load the regex above missed would fail at run time).
const loaded = new Set(Object.keys(mainBuild.metafile.inputs).flatMap((i) => (i.startsWith(`${CMD}:`) ? [i.slice(CMD.length + 1)] : [])))
const missing = [...loaded].filter((name) => !commandFiles.includes(name))
if (missing.length > 0 || loaded.size !== commandFiles.length) throw new Error(`build-cli: main.js loads ${[...loaded].join(', ')}; built ${commandFiles.join(', ')}`)
/**
 * One metafile for all of it: main.js's output imports each command's file dynamically, as the
 * loader does (scripts/chunk-graph.ts reads the outputs for the files and the inputs for the graph).
 */
const rel = (file) => relative(root, file).split(sep).join('/')
const mainOut = rel(join(outDir, 'main.js'))
const outputs = {}
for (const r of builds) Object.assign(outputs, r.metafile.outputs)
outputs[mainOut] = { ...outputs[mainOut], imports: [...(outputs[mainOut]?.imports ?? []), ...commandFiles.map((name) => ({ path: rel(join(outDir, 'cmd', `${name}.js`)), kind: 'dynamic-import' }))] }
const metafile = { inputs: Object.assign({}, ...builds.map((r) => r.metafile.inputs)), outputs }
/** Whether any of `outs` holds the stand-in module of `namespace`. */
const usesLazy = (namespace, outs = outputs) => Object.values(outs).some((o) => Object.keys(o.inputs).some((i) => i.startsWith(`${namespace}:`)))
// The stand-ins load through the loader a command receives: main.js must not need yaml or re2js.
if ([RE2JS_LAZY, ...PACKAGE_FILES.map((p) => p.namespace)].some((namespace) => usesLazy(namespace, mainBuild.metafile.outputs))) throw new Error('build-cli: main.js would load yaml, re2js, age-encryption or execa; keep them behind a command')
// re2js.cjs once, in dist/cli/, wrapped like a command: the package's own CommonJS build (sloppy, as it ships).
if (usesLazy(RE2JS_LAZY)) {
    const minified = await transform(readFileSync(re2jsCjs, 'utf8'), { loader: 'js', format: 'cjs', minifyWhitespace: true, minifySyntax: true, legalComments: 'inline', target: 'node20' })
    writeFileSync(join(outDir, 're2js.cjs'), `${WRAP.banner.js}${minified.code}${WRAP.footer.js}`)
}
// yaml.cjs, age.cjs and execa.cjs, wrapped like a command; their metafiles join the bundle's (chunks.test.ts reads V8's counts for them too).
for (const { namespace, file, names, from } of PACKAGE_FILES) {
    if (!usesLazy(namespace)) continue
    const r = await build({
        ...common, ...STRICT_WRAP, outfile: join(outDir, file),
        stdin: { contents: `export { ${names.join(', ')} } from ${JSON.stringify(from)}`, resolveDir: root, loader: 'js', sourcefile: `kf-entry:${file}` },
        inject: [], define: {}, plugins: namespace === AGE_LAZY ? [ageTreeShake] : [],
    })
    if (r.errors.length > 0 || r.warnings.length > 0) throw new Error(`build-cli: esbuild reported errors or warnings for ${file} (above)`)
    Object.assign(metafile.inputs, r.metafile.inputs)
    Object.assign(metafile.outputs, r.metafile.outputs)
}
/**
 * The code caches: each loaded file compiled with every function (V8's --no-lazy for this compile
 * only; the flag is reset before the cache is written, so that the cache's flag hash is the one a
 * normal run has, or V8 would reject it). The build runs on the node the tests and the bench use; on
 * another V8 the cache is rejected and the file compiles as usual.
 */
const cacheFor = (file) => {
    const bytes = readFileSync(file)
    setFlagsFromString('--no-lazy')
    let script
    try {
        script = new Script(bytes.toString('utf8'), { filename: file })
    } finally {
        setFlagsFromString('--lazy')
    }
    // The cache file's format is the loader's own (src/cli/bundle-load.ts, built by tsc before this script).
    writeFileSync(`${file}.cache`, encodeCache(bytes, script.createCachedData()))
}
/**
 * Which commands get one: those of issue 15's start-up budget, which answer in process (a cache is about
 * twice its file). The others wait on sops, git or kubectl, whose own start dwarfs V8's compile; they
 * compile as they run.
 */
const CACHED = ['check', 'decrypt', 'diff', 'get', 'ls', 'registry', 'run', 'scan', 'validate']
const unknown = CACHED.filter((name) => !commandFiles.includes(name))
if (unknown.length > 0) throw new Error(`build-cli: no command ${unknown.join(', ')} to cache`)
for (const name of CACHED) cacheFor(join(outDir, 'cmd', `${name}.js`))
for (const file of ['re2js.cjs', 'yaml.cjs', ...PACKAGE_FILES.map((p) => p.file)]) if (readdirSync(outDir).includes(file)) cacheFor(join(outDir, file))
// The bundle is CommonJS whatever package.json is nearest (the package itself is ESM).
writeFileSync(join(outDir, 'package.json'), '{ "type": "commonjs" }\n')
// Beside the bundle, not in it (the package ships dist/cli/ only).
writeFileSync(`${outDir}.meta.json`, JSON.stringify(metafile))
