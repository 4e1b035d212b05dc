/**
 * Builds plain-JS copies of TypeScript modules with esbuild, for code that
 * must run outside vitest's transform: worker threads and child processes.
 */
import { buildSync } from 'esbuild'
import { join } from 'node:path'
import { repoRoot } from '../helpers/tools.js'

/** Bundles `entry` (repo-relative) into `outDir/<name>.mjs` and returns its path. */
export const bundleModule = (entry: string, outDir: string, name: string): string => {
    const outfile = join(outDir, `${name}.mjs`)
    buildSync({
        entryPoints: [join(repoRoot, entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20',
        outfile, logLevel: 'silent', metafile: false,
        // age-encryption and yaml stay external: they resolve from the repo's node_modules via nodePaths.
        packages: 'external', absWorkingDir: repoRoot,
    })
    return outfile
}
