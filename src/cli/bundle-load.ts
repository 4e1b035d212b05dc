/**
 * How the CLI bundle (dist/cli/main.js) loads a command (dist/cli/cmd/NAME.js) and the lazily loaded
 * packages (dist/cli/yaml.cjs, re2js.cjs): each file is one function expression that scripts/build-cli.mjs
 * wrote, compiled here with the V8 code cache the build wrote beside it (`FILE.cache`).
 *
 * Why (issue 15, start-up budget): node 20 keeps no compiled code between runs, and V8 compiling a
 * command's functions as they first run was the largest part of a command's start after node's own. A
 * cache V8 cannot use (another node, another V8 version or flags, a file of another length) is rejected
 * by V8 itself, a cache built from other bytes than the file's is not given to it (`cacheFor`), and the
 * file then compiles as it would without one: slower, never different. The cache is built with the bundle
 * and ships beside it, with the same integrity as the file (npm checks the package's); nothing is written
 * at run time.
 *
 * `NODE_DEBUG=keyfleet` prints one line per file loaded, with the cache's fate.
 * Only the bundle uses this module (tsc's dist/src/cli imports commands directly).
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Script, constants } from 'node:vm'

/** What a bundle file's function receives, in order (the build writes the same list). */
type BundleFunction = (exports: object, require: (id: string) => unknown, module: { exports: unknown }, filename: string, dirname: string, load: BundleLoader) => void

/** Loads a file of the bundle, relative to dist/cli/, once; `main` is dist/cli/main.js (the hook command records it). */
export interface BundleLoader {
    (file: string): unknown
    readonly main: string
}

// Bundle code asks require() for node's built-ins only (everything else is bundled or loaded through the loader).
const builtin = (id: string): unknown => {
    const m = process.getBuiltinModule(id)
    if (m === undefined) throw new Error(`keyfleet bundle: ${id} is not a node built-in`)
    return m
}

let debug: ((message: string) => void) | undefined
const log = (message: string): void => {
    debug ??= process.getBuiltinModule('node:util').debuglog('keyfleet')
    debug(message)
}

/** First bytes of a cache file: format 1, then the source's length (u32 LE) and bytes, then V8's data. */
const CACHE_MAGIC = Buffer.from('KFCACHE1', 'latin1')
const CACHE_HEAD = CACHE_MAGIC.length + 4

/**
 * A cache file for `source` holding V8's `data` (scripts/build-cli.mjs writes it). V8 checks a cache against
 * its source's length only, so the file's own bytes lead the cache and the loader compares them: an edit of
 * the same length must not run the old code. One memcmp at load, no hash to compute.
 */
export const encodeCache = (source: Buffer, data: Buffer): Buffer => {
    const head = Buffer.alloc(CACHE_HEAD)
    CACHE_MAGIC.copy(head)
    head.writeUInt32LE(source.length, CACHE_MAGIC.length)
    return Buffer.concat([head, source, data])
}

/**
 * V8's data for `source` from the cache beside `path`, or why there is none to use: `absent`, or `stale`
 * when the cache was built from other bytes (the file edited after the build, or a cache not of this format).
 */
const cacheFor = (path: string, source: Buffer): Buffer | 'absent' | 'stale' => {
    let cache: Buffer
    try {
        cache = readFileSync(`${path}.cache`)
    } catch {
        return 'absent'
    }
    if (cache.length < CACHE_HEAD || !cache.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC)) return 'stale'
    const length = cache.readUInt32LE(CACHE_MAGIC.length)
    const end = CACHE_HEAD + length
    if (length !== source.length || cache.length < end || !cache.subarray(CACHE_HEAD, end).equals(source)) return 'stale'
    return cache.subarray(end)
}

const loaders = new Map<string, BundleLoader>()

/** The loader of the bundle in `dir` (dist/cli/). */
export const bundleLoader = (dir: string): BundleLoader => {
    const known = loaders.get(dir)
    if (known !== undefined) return known
    const loaded = new Map<string, unknown>()
    const load = ((file: string): unknown => {
        if (loaded.has(file)) return loaded.get(file)
        const path = join(dir, file)
        const bytes = readFileSync(path)
        const cache = cacheFor(path, bytes)
        const cachedData = typeof cache === 'string' ? undefined : cache
        const script = new Script(bytes.toString('utf8'), {
            filename: path,
            ...(cachedData === undefined ? {} : { cachedData }),
            // The bundle converts its own import()s; any other one resolves as it would in main.js.
            importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
        })
        log(`load ${file} (code cache ${typeof cache === 'string' ? cache : script.cachedDataRejected === true ? 'rejected' : 'accepted'})`)
        const module = { exports: {} as unknown }
        ;(script.runInThisContext() as BundleFunction)(module.exports as object, builtin, module, path, dirname(path), load)
        loaded.set(file, module.exports)
        return module.exports
    }) as BundleLoader
    Object.defineProperty(load, 'main', { value: join(dir, 'main.js'), enumerable: true })
    loaders.set(dir, load)
    return load
}
