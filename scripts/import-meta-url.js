// esbuild `inject` for the CommonJS bundle (scripts/build-cli.mjs): `import.meta.url` in the sources becomes
// this file URL of the bundle file itself, as esbuild's documentation suggests for ESM code in CommonJS output.
// `__filename` is the bundle file's path: node's for main.js, src/cli/bundle-load.ts's for the others.
import { pathToFileURL } from 'node:url'

export const importMetaUrl = pathToFileURL(__filename).href
