#!/usr/bin/env node
// Bundles src/action/ into .github/actions/keyfleet/dist/index.js, the file
// the runner executes (runs.using: node24). The bundle is committed, so the
// build must be deterministic: no timestamps, no absolute paths, no source
// maps, licence comments moved to a linked file. test/action/bundle.test.ts
// rebuilds into a temp dir and compares bytes with the committed file.
//
//   node scripts/build-action.mjs            # writes the committed bundle
//   node scripts/build-action.mjs --out DIR  # writes DIR/index.js instead
import { build } from 'esbuild'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outIndex = process.argv.indexOf('--out')
const outDir = outIndex > 0 ? resolve(process.argv[outIndex + 1] ?? '') : join(root, '.github', 'actions', 'keyfleet', 'dist')

// @actions/core imports @actions/http-client (and through it undici, ~0.9 MB)
// only for getIDToken (OIDC), which keyfleet never calls. A stub keeps the
// bundle small; calling getIDToken would throw a clear error.
const noHttpClient = {
    name: 'no-http-client',
    setup(b) {
        b.onResolve({ filter: /^@actions\/http-client(\/lib\/auth)?$/ }, (args) => ({ path: args.path, namespace: 'kf-stub' }))
        b.onLoad({ filter: /.*/, namespace: 'kf-stub' }, () => ({
            contents: "const no = () => { throw new Error('keyfleet action: @actions/http-client is not bundled (OIDC is not used)') }\nexport class HttpClient { constructor() { no() } }\nexport class BearerCredentialHandler { constructor() { no() } }\n",
            loader: 'js',
        }))
    },
}

/** Options shared by the build and its byte-for-byte check. */
const options = {
    plugins: [noHttpClient],
    absWorkingDir: root,
    entryPoints: ['src/action/index.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(outDir, 'index.js'),
    legalComments: 'linked',
    sourcemap: false,
    minify: false,
    treeShaking: true,
    charset: 'utf8',
    logLevel: 'warning',
    // CommonJS dependencies (yaml, undici via @actions/http-client) call
    // require() for Node built-ins; ESM output needs a real require for that.
    banner: { js: "import { createRequire as __kfCreateRequire } from 'node:module';\nconst require = __kfCreateRequire(import.meta.url);" },
}

mkdirSync(outDir, { recursive: true })
const result = await build(options)
if (result.errors.length > 0) process.exit(1)
// The nearest package.json decides how Node loads index.js; make the
// bundle ESM on its own, whatever repository it is checked out in.
writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
