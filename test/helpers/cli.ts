/**
 * Runs the keyfleet CLI in-process against a throwaway copy of the demo
 * repository, capturing stdout and stderr.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { runCli } from '../../src/cli/run.js'
import { repoRoot, sopsPath } from './tools.js'

/** A git repository holding a copy of the demo .sops.yaml, environments/ and examples/demo-keys/. */
export const makeDemoRepo = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-repo-'))
    for (const part of ['.sops.yaml', 'environments', 'examples/demo-keys']) {
        cpSync(join(repoRoot, part), join(dir, part), { recursive: true })
    }
    git(dir, 'init', '-q', '-b', 'main')
    git(dir, 'add', '-A')
    git(dir, 'commit', '-q', '-m', 'demo')
    return dir
}

/** Runs git in `dir` with a fixed identity. */
export const git = (dir: string, ...args: string[]): string =>
    execFileSync('git', args, {
        cwd: dir, encoding: 'utf8',
        env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    })

/** Demo identity file path inside a demo repo copy. */
export const demoKey = (repo: string, who: 'dev' | 'stage' | 'prod' | 'admin' | 'laptop-alice'): string =>
    join(repo, 'examples', 'demo-keys', `${who}.agekey`)

/** Result of one CLI run. */
export interface CliResult {
    readonly code: number
    readonly stdout: string
    readonly stderr: string
}

/** Options of {@link keyfleet}. */
export interface RunOptions {
    readonly cwd: string
    /** A string, or raw bytes (e.g. invalid UTF-8). */
    readonly stdin?: string | Buffer
    readonly env?: Record<string, string | undefined>
}

/** Runs `keyfleet <argv>` in-process; sops is the pinned binary, found as CI finds it. */
export const keyfleet = async (argv: string[], options: RunOptions): Promise<CliResult> => {
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const out: Buffer[] = []
    const err: Buffer[] = []
    stdout.on('data', (c: Buffer) => out.push(c))
    stderr.on('data', (c: Buffer) => err.push(c))
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, KEYFLEET_SOPS: sopsPath(), ...options.env }
    const code = await runCli(argv, {
        cwd: options.cwd,
        env,
        stdin: Readable.from(options.stdin === undefined ? [] : [typeof options.stdin === 'string' ? Buffer.from(options.stdin) : options.stdin]),
        stdout,
        stderr,
    })
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }
}

/** Plain `sops decrypt` of an environment with one identity file: the oracle for what a write left behind. */
export const sopsDecrypt = (repo: string, env: string, keyFile: string): { code: number; out: string } => {
    try {
        const out = execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', `environments/${env}/env.secrets`], {
            cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { SOPS_AGE_KEY_FILE: keyFile, PATH: process.env.PATH },
        })
        return { code: 0, out }
    } catch (error) {
        return { code: (error as { status: number }).status, out: '' }
    }
}
