/**
 * Start-up budget (issue 15) without timing anything: what each command runs at start. The bundle is
 * built into a temp directory; its esbuild metafile says which sources each file holds and how they
 * import each other (scripts/chunk-graph.ts), and V8 itself says which ran: with NODE_V8_COVERAGE,
 * node writes V8's call count of every function, and esbuild names each lazily initialised module's
 * wrapper after its source. A command that starts running age-encryption, yaml, execa or
 * kubernetes-models where it need not fails here, not only in `npm run bench`.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commandSet, helpSet, packageOf, type ChunkSet, type Metafile } from '../../scripts/chunk-graph.js'
import { keyfleet } from '../helpers/cli.js'
import { repoRoot } from '../helpers/tools.js'

let dir = ''
let out = ''
let meta: Metafile

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyfleet-chunks-'))
    out = join(dir, 'cli')
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-cli.mjs'), '--out', out], { cwd: repoRoot, stdio: 'pipe', timeout: 120_000 })
    meta = JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')) as Metafile
}, 180_000)

afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }) })

const packages = (set: ChunkSet): Set<string> => new Set([...set.inputs.keys()].filter((i) => i.includes('node_modules/')).map(packageOf))
const sources = (set: ChunkSet): string[] => [...set.inputs.keys()].filter((i) => i.startsWith('src/'))

/** Packages a command must not parse at start, and why. */
const HEAVY = ['age-encryption', '@noble/post-quantum', '@noble/curves', 'execa', 'kubernetes-models', '@kubernetes-models/base'] as const

interface Coverage { readonly result: readonly { readonly url: string; readonly functions: readonly { readonly functionName: string; readonly ranges: readonly { readonly count: number }[] }[] }[] }

let runs = 0
/**
 * The sources one real run of the bundle ran, as V8 counted: in each file it loaded, every source not
 * behind a wrapper (esbuild runs those with the file), and every wrapper V8 saw called.
 */
const loadedBy = (args: readonly string[], env: NodeJS.ProcessEnv = {}): ChunkSet => {
    const coverage = join(dir, `coverage-${runs++}`)
    const r = spawnSync(process.execPath, [join(out, 'main.js'), ...args], {
        cwd: repoRoot, encoding: 'utf8', timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1', ...env, NODE_V8_COVERAGE: coverage },
    })
    expect(r.status, r.stderr.slice(-500)).toBe(0)
    const scripts = readdirSync(coverage).flatMap((f) => (JSON.parse(readFileSync(join(coverage, f), 'utf8')) as Coverage).result)
    const inputs = new Map<string, number>()
    const files: string[] = []
    let wrappers = 0
    for (const [output, { inputs: held }] of Object.entries(meta.outputs)) {
        const script = scripts.find((s) => s.url === pathToFileURL(resolve(repoRoot, output)).href)
        if (script === undefined) continue
        files.push(output)
        const calls = new Map<string, number>()
        for (const f of script.functions) if (f.functionName in held) calls.set(f.functionName, Math.max(calls.get(f.functionName) ?? 0, f.ranges[0]?.count ?? 0))
        wrappers += calls.size
        for (const [input, { bytesInOutput }] of Object.entries(held)) if ((calls.get(input) ?? 1) > 0) inputs.set(input, bytesInOutput)
    }
    // If V8 stops reporting either, say so instead of passing on an empty set.
    expect(files.length, 'NODE_V8_COVERAGE listed no bundle file: node changed its coverage output').toBeGreaterThan(0)
    expect(wrappers, 'no lazily initialised module was named in the coverage: esbuild changed its wrappers').toBeGreaterThan(0)
    return { files, bytes: 0, inputs }
}

/** The commands of issue 15's start-up budget. */
const BUDGET = ['ls', 'registry', 'get', 'run', 'decrypt', 'check', 'validate', 'diff', 'scan']

/** One run of the bundle with the loader's log on (NODE_DEBUG=keyfleet, src/cli/bundle-load.ts). */
interface LoaderRun {
    readonly code: number | null
    readonly stdout: string
    readonly stderr: string
    /** The files it loaded, in order. */
    readonly files: string[]
    /** Each as `FILE FATE`, the code cache's fate (`cmd/get.js accepted`). */
    readonly loads: string[]
}

const loads = (args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): LoaderRun => {
    const r = spawnSync(process.execPath, [join(out, 'main.js'), ...args], {
        cwd, encoding: 'utf8', timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1', SOPS_AGE_KEY_FILE: join(repoRoot, 'examples', 'demo-keys', 'dev.agekey'), ...env, NODE_DEBUG: 'keyfleet' },
    })
    const logged = [...r.stderr.matchAll(/KEYFLEET \d+: load (\S+) \(code cache (\w+)\)/g)]
    const files = logged.map((m) => m[1] as string)
    // The command's own file is always logged: the log is on.
    expect(files.some((f) => f.startsWith('cmd/')), r.stderr.slice(-500)).toBe(true)
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, files, loads: logged.map((m) => `${m[1]} ${m[2]}`) }
}

describe('what each command loads (issue 15)', () => {
    it('--help parses our own glue only: no dependency, no command, no core module beyond errors', () => {
        const set = helpSet(meta)
        expect([...packages(set)]).toEqual([])
        expect(sources(set).filter((s) => !s.startsWith('src/cli/') && s !== 'src/errors.ts')).toEqual([])
        expect(sources(set).filter((s) => s.startsWith('src/cli/commands/') && s !== 'src/cli/commands/index.ts')).toEqual([])
    })

    // The heavy packages live in their own files (age.cjs, execa.cjs), behind stand-ins: a command file that
    // holds any of their code imported it past the stand-in (a deep import, say), and would run it with itself.
    it.each(BUDGET)('%s holds no code of age-encryption, execa or kubernetes-models, and ls / registry / get / run no decryptor at start', (command) => {
        expect(HEAVY.filter((p) => packages(commandSet(meta, command, true)).has(p))).toEqual([])
        if (['ls', 'registry', 'get', 'run'].includes(command)) expect(sources(commandSet(meta, command))).not.toContain('src/sops/native/decrypt.ts')
    })

    it.each([['ls', 'dev'], ['registry', 'dev'], ['get', 'dev', 'OPENAI_API_KEY'], ['run', 'dev', '--', 'true'], ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets']])(
        'node agrees: %s loads no re2js.cjs (it loads when a pattern compiles)', (...args) => {
            expect(loads(args).files).not.toContain('re2js.cjs')
        }, 60_000)

    it('the check can see re2js load: scan of a line holding a key compiles its detector', () => {
        const file = join(dir, 'leak.txt')
        writeFileSync(file, 'OPENAI=sk-proj-Q7xK2mV9pL4wZ8rT1nB6yH3cJ5dF0sAe\n') // keyfleet:allow openai
        const run = loads(['scan', file])
        expect(run.code).not.toBe(0)
        expect(run.files).toContain('re2js.cjs')
    }, 60_000)

    it('re2js loaded on first use is the same engine: check and validate with RE2 formats answer as in process', async () => {
        const key = { SOPS_AGE_KEY_FILE: join(repoRoot, 'examples', 'demo-keys', 'dev.agekey') }
        for (const args of [['check', 'dev', '--json'], ['validate'], ['scan', 'environments/dev/deployment.yaml']]) {
            const r = spawnSync(process.execPath, [join(out, 'main.js'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: dir, ...key } })
            const inProcess = await keyfleet(args, { cwd: repoRoot, env: key })
            expect({ args, code: r.status, stdout: r.stdout }).toEqual({ args, code: inProcess.code, stdout: inProcess.stdout })
        }
    }, 120_000)

    it('node agrees: key-less validate, diff and scan load no age-encryption, kubernetes-models or execa (git runs on node:child_process)', () => {
        for (const args of [['validate'], ['diff', '--base', 'HEAD'], ['scan', 'environments/dev/deployment.yaml']]) {
            const loaded = packages(loadedBy(args))
            expect(HEAVY.filter((p) => loaded.has(p)), args.join(' ')).toEqual([])
        }
    }, 120_000)

    it('the check can see a lazy package run: decrypt --engine sops runs execa, which decrypt in process never does', () => {
        const key = { SOPS_AGE_KEY_FILE: join(repoRoot, 'examples', 'demo-keys', 'dev.agekey') }
        const file = ['--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets']
        expect([...commandSet(meta, 'decrypt', true).inputs.keys()]).toContain('kf-execa-lazy:execa')
        expect(packages(loadedBy(['decrypt', '--engine', 'sops', ...file], key)).has('execa')).toBe(true)
        expect(packages(loadedBy(['decrypt', ...file], key)).has('execa')).toBe(false)
    }, 120_000)

    /** Exit code, stdout and the cache's fate of each file loaded, for comparing runs. */
    const logged = (args: readonly string[]): Pick<LoaderRun, 'code' | 'stdout' | 'loads'> => {
        const { code, stdout, loads: fates } = loads(args)
        return { code, stdout, loads: fates }
    }

    it('V8 accepts the code caches the build wrote; one it rejects, one built from other bytes or none changes nothing but the time', () => {
        const args = ['get', 'dev', 'OPENAI_API_KEY']
        const good = logged(args)
        expect(good.code).toBe(0)
        // Canary: the loader's log names files and fates only; the value `get` prints never reaches stderr.
        const value = good.stdout.trim()
        expect(value.length).toBeGreaterThan(20)
        const { stderr } = loads(args)
        for (const form of [value, Buffer.from(value).toString('base64'), encodeURIComponent(value), JSON.stringify(value)]) expect(stderr).not.toContain(form)
        expect(good.loads).toEqual(['cmd/get.js accepted'])
        expect(logged(['validate']).loads).toContain('cmd/validate.js accepted')
        const source = join(out, 'cmd', 'get.js')
        const cache = `${source}.cache`
        const bytes = readFileSync(cache)
        const { mtime } = statSync(source)
        try {
            // V8's data cut short: V8 refuses it.
            writeFileSync(cache, bytes.subarray(0, bytes.length - 1000))
            expect(logged(args)).toEqual({ ...good, loads: ['cmd/get.js rejected'] })
            // Another file's cache, and the file edited to the same length with its time put back (as npm
            // packs, or an image with fixed times, leave it): both built from other bytes, neither offered.
            writeFileSync(cache, readFileSync(join(out, 'cmd', 'run.js.cache')))
            expect(logged(args)).toEqual({ ...good, loads: ['cmd/get.js stale'] })
            writeFileSync(cache, bytes)
            const text = readFileSync(source, 'utf8')
            // One character of its help text: the run's output is the same, only the cache's fate tells.
            const edited = text.replace('keyfleet get dev openai', 'keyfleet get dev OPENAI')
            expect(edited.length).toBe(text.length)
            expect(edited).not.toBe(text)
            writeFileSync(source, edited)
            utimesSync(source, mtime, mtime)
            utimesSync(cache, mtime, mtime)
            expect(logged(args)).toEqual({ ...good, loads: ['cmd/get.js stale'] })
            writeFileSync(source, text)
            utimesSync(source, mtime, mtime)
            rmSync(cache)
            expect(logged(args)).toEqual({ ...good, loads: ['cmd/get.js absent'] })
        } finally {
            writeFileSync(cache, bytes)
            utimesSync(source, mtime, mtime)
        }
        expect(logged(args).loads).toEqual(['cmd/get.js accepted'])
    }, 120_000)

    it('node agrees: a real --help loads no dependency and ls / registry load no age, execa or kubernetes-models', () => {
        expect([...packages(loadedBy(['--help']))]).toEqual([])
        for (const args of [['ls', 'dev'], ['registry', 'dev']]) {
            const loaded = packages(loadedBy(args))
            expect(HEAVY.filter((p) => loaded.has(p)), args.join(' ')).toEqual([])
        }
    }, 120_000)

    it('yaml is not in any bundle file: the bundle holds a stand-in that loads yaml.cjs on first use', () => {
        // yaml.cjs (now in the metafile too) is the one file that holds the package.
        const holding = Object.entries(meta.outputs).filter(([, o]) => Object.keys(o.inputs).some((i) => i.includes('node_modules/yaml/'))).map(([file]) => file.split('/').pop())
        expect(holding).toEqual(['yaml.cjs'])
        expect(existsSync(join(out, 'yaml.cjs'))).toBe(true)
    })

    /** Whether a real run, which must succeed, loaded yaml.cjs. */
    const requiresYaml = (args: readonly string[], cwd = repoRoot): boolean => {
        const run = loads(args, {}, cwd)
        expect(run.code).toBe(0)
        return run.files.includes('yaml.cjs')
    }

    it.each([['ls', 'dev'], ['registry', 'dev'], ['get', 'dev', 'OPENAI_API_KEY'], ['run', 'dev', '--', 'true'], ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets']])(
        'node agrees: %s reads the demo repository without loading yaml (the fast path of src/yaml-fast.ts)', (...args) => {
            expect(requiresYaml(args)).toBe(false)
        }, 60_000)

    it('validate reads the demo deployments without yaml too; the check can see yaml load: ls on a catalog outside the fast path', () => {
        expect(requiresYaml(['validate'])).toBe(false)
        const repo = join(dir, 'anchored')
        cpSync(join(repoRoot, 'environments'), join(repo, 'environments'), { recursive: true })
        cpSync(join(repoRoot, '.sops.yaml'), join(repo, '.sops.yaml'))
        // An anchor is outside the subset: the same catalog, read by the package.
        const catalog = join(repo, 'environments', 'keyfleet.yaml')
        writeFileSync(catalog, readFileSync(catalog, 'utf8').replace('custom:', 'custom: &custom'))
        expect(requiresYaml(['ls', 'dev'], repo)).toBe(true)
    }, 60_000)

    /** Whether a real run loaded node's crypto module, as node's own list of loaded built-ins says. */
    const loadsCrypto = (args: readonly string[]): boolean => {
        const probe = join(dir, 'crypto-probe.cjs')
        writeFileSync(probe, "process.on('exit', () => require('node:fs').writeSync(2, `\\ncrypto-loaded=${process.moduleLoadList.includes('NativeModule crypto')}\\n`))\n")
        const r = spawnSync(process.execPath, ['-r', probe, join(out, 'main.js'), ...args], {
            cwd: repoRoot, encoding: 'utf8', timeout: 60_000,
            env: { PATH: process.env.PATH, HOME: dir, SOPS_AGE_KEY_FILE: join(repoRoot, 'examples', 'demo-keys', 'dev.agekey') },
        })
        expect(r.status, r.stderr.slice(-500)).toBe(0)
        const said = /crypto-loaded=(true|false)/.exec(r.stderr)?.[1]
        expect(said, 'the probe did not report').toBeDefined()
        return said === 'true'
    }

    it('node:crypto (16 internal modules) loads on first call: --help, ls and registry never load it, get does', () => {
        for (const args of [['--help'], ['ls', 'dev'], ['registry', 'dev']]) expect(loadsCrypto(args), args.join(' ')).toBe(false)
        expect(loadsCrypto(['get', 'dev', 'OPENAI_API_KEY'])).toBe(true)
    }, 120_000)

    it('every command loads from its own bundle and answers --help byte for byte as runCli does', async () => {
        const { commands } = await import('../../src/cli/commands/index.js')
        expect(commands.length).toBeGreaterThan(20)
        for (const c of commands) {
            const args = [...c.name.split(' '), '--help']
            const r = spawnSync(process.execPath, [join(out, 'main.js'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: dir } })
            const inProcess = await keyfleet(args, { cwd: repoRoot })
            expect({ args, code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: inProcess.code, stdout: inProcess.stdout, stderr: '' })
        }
    }, 180_000)

    it('hook install from the bundle points the hook at the bundle\'s main.js (the command runs from cmd/hook.js)', () => {
        const repo = join(dir, 'hooked')
        execFileSync('git', ['init', '-q', repo])
        const r = spawnSync(process.execPath, [join(out, 'main.js'), 'hook', 'install'], { cwd: repo, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: dir } })
        expect(r.status, r.stderr).toBe(0)
        expect(readFileSync(join(repo, '.git', 'hooks', 'pre-commit'), 'utf8')).toContain(`KEYFLEET_CLI='${join(out, 'main.js')}'`)
    }, 60_000)

    it('the bundle answers --help and --version (written to fd 1 directly) byte for byte as runCli does', async () => {
        for (const args of [['--help'], ['--version'], ['-h']]) {
            const r = spawnSync(process.execPath, [join(out, 'main.js'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 })
            const inProcess = await keyfleet(args, { cwd: repoRoot })
            expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: inProcess.code, stdout: inProcess.stdout, stderr: '' })
        }
    }, 120_000)

    it.each([
        ['get', 'dev', 'OPENAI_API_KEY'], ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets'], ['run', 'dev', '--', 'true'], ['check', 'dev'],
    ])('node agrees: %s with an X25519 key decrypts on node:crypto alone: no age-encryption, @noble, execa or kubernetes-models', (...args) => {
        const loaded = packages(loadedBy(args, { SOPS_AGE_KEY_FILE: join(repoRoot, 'examples', 'demo-keys', 'dev.agekey') }))
        expect(HEAVY.filter((p) => loaded.has(p)), args.join(' ')).toEqual([])
    }, 120_000)
})
