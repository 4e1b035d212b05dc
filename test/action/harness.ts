/**
 * Runs the bundled action the way the runner does: `node dist/index.js` with
 * INPUT_* variables (hyphens kept), the GITHUB_* command files created empty,
 * RUNNER_TEMP a private temp dir and GITHUB_WORKSPACE a git copy of the demo
 * repository.
 */
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { expect } from 'vitest'
import { filesUnder } from '../helpers/canary.js'
import { repoRoot, sopsPath } from '../helpers/tools.js'

/** The committed bundle under test. */
export const bundle = join(repoRoot, '.github', 'actions', 'keyfleet', 'dist', 'index.js')

/** A scratch area for one test: a workspace repo, RUNNER_TEMP and an out dir. */
export interface Sandbox {
    readonly base: string
    readonly workspace: string
    readonly runnerTemp: string
    readonly outDir: string
}

const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=keyfleet-test', '-c', 'user.email=test@keyfleet.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** Commits everything in the sandbox repo; returns the commit id. */
export const commitAll = (sb: Sandbox, message: string): string => {
    git(sb.workspace, 'add', '-A')
    git(sb.workspace, 'commit', '-q', '-m', message)
    return git(sb.workspace, 'rev-parse', 'HEAD').trim()
}

/** The sandbox repo's current commit id. */
export const headCommit = (sb: Sandbox): string => git(sb.workspace, 'rev-parse', 'HEAD').trim()

/** Copies .sops.yaml, environments/ and examples/demo-keys into a fresh git repo. */
export const makeSandbox = (): Sandbox => {
    const base = mkdtempSync(join(tmpdir(), 'kf-action-'))
    const sb = { base, workspace: join(base, 'workspace'), runnerTemp: join(base, 'runner-temp'), outDir: join(base, 'out') }
    mkdirSync(sb.workspace)
    mkdirSync(sb.runnerTemp)
    cpSync(join(repoRoot, '.sops.yaml'), join(sb.workspace, '.sops.yaml'))
    cpSync(join(repoRoot, 'environments'), join(sb.workspace, 'environments'), { recursive: true })
    cpSync(join(repoRoot, 'examples', 'demo-keys'), join(sb.workspace, 'examples', 'demo-keys'), { recursive: true })
    git(sb.workspace, 'init', '-q', '-b', 'main')
    commitAll(sb, 'demo')
    return sb
}

/** The demo identity file text of an environment. */
export const demoKey = (env: string): string => readFileSync(join(repoRoot, 'examples', 'demo-keys', `${env}.agekey`), 'utf8')

/** Sets NAME in the sandbox's env.secrets with the real sops; the value goes through stdin, the key through the environment. */
export const sopsSet = (sb: Sandbox, env: string, name: string, value: string): void => {
    execFileSync(sopsPath(), ['set', '--input-type', 'dotenv', '--output-type', 'dotenv', '--value-stdin', `environments/${env}/env.secrets`, `["${name}"]`], {
        cwd: sb.workspace,
        input: JSON.stringify(value),
        env: { PATH: process.env.PATH ?? '', HOME: sb.base, SOPS_AGE_KEY: demoKey(env) },
        stdio: ['pipe', 'ignore', 'pipe'],
    })
}

/** What one run of the action left behind. */
export interface ActionRun {
    readonly code: number | null
    readonly stdout: string
    readonly stderr: string
    /** GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_ENV contents. */
    readonly outputFile: string
    readonly summary: string
    readonly envFile: string
    /** Parsed `name<<delimiter` outputs. */
    readonly outputs: Record<string, string>
}

const parseOutputs = (text: string): Record<string, string> => {
    const out: Record<string, string> = {}
    const re = /^([^\n<]+)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n?\2$/gm
    for (const m of text.matchAll(re)) out[m[1] as string] = m[3] as string
    return out
}

/** PATH with the pinned sops first, as the deploy workflow's install step leaves it. */
export const pathWithSops = (): string => [dirname(sopsPath()), process.env.PATH ?? ''].join(delimiter)

/** Runs the bundle with `inputs` (names as in action.yml) in the sandbox; `extraEnv` adds to or replaces the step's environment. */
export const runAction = (sb: Sandbox, inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<ActionRun> => {
    const files = { GITHUB_OUTPUT: join(sb.base, 'github-output'), GITHUB_STEP_SUMMARY: join(sb.base, 'step-summary'), GITHUB_ENV: join(sb.base, 'github-env') }
    for (const file of Object.values(files)) writeFileSync(file, '')
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? '', HOME: sb.base, ...files, RUNNER_TEMP: sb.runnerTemp, GITHUB_WORKSPACE: sb.workspace, ...extraEnv,
    }
    for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    return new Promise((resolve, reject) => {
        const proc = spawn(process.execPath, [bundle], { cwd: sb.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        proc.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
        proc.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
        proc.on('error', reject)
        proc.on('close', (code) => {
            const outputFile = readFileSync(files.GITHUB_OUTPUT, 'utf8')
            resolve({
                code, stdout, stderr, outputFile,
                summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
                envFile: readFileSync(files.GITHUB_ENV, 'utf8'),
                outputs: parseOutputs(outputFile),
            })
        })
    })
}

/** Non-empty stdout lines of a run. */
export const outputLines = (run: ActionRun): string[] => run.stdout.split('\n').filter((l) => l !== '')

/** Asserts that no line other than a mask command precedes any mask command. */
export const expectMasksFirst = (run: ActionRun): void => {
    const all = outputLines(run)
    const lastMask = all.map((l) => l.startsWith('::add-mask::')).lastIndexOf(true)
    const firstOther = all.findIndex((l) => !l.startsWith('::add-mask::'))
    if (firstOther !== -1) expect(lastMask, `mask after "${all[firstOther]}"`).toBeLessThan(firstOther)
}

/**
 * Every haystack a run could leak into, except `allowed` paths under out-dir.
 * `::add-mask::` lines are the masking itself: the runner consumes them and
 * never shows them, so they are the one place a value may appear in stdout.
 */
export const leakHaystacks = (sb: Sandbox, run: ActionRun, allowed: (path: string) => boolean = () => false): Record<string, string | Buffer> => ({
    stdout: outputLines(run).filter((l) => !l.startsWith('::add-mask::')).join('\n'),
    stderr: run.stderr,
    GITHUB_OUTPUT: run.outputFile,
    GITHUB_STEP_SUMMARY: run.summary,
    GITHUB_ENV: run.envFile,
    ...filesUnder(sb.runnerTemp),
    ...filesUnder(sb.workspace, (p) => p.endsWith('/.git')),
    ...(existsSync(sb.outDir) ? filesUnder(sb.outDir, allowed) : {}),
})
