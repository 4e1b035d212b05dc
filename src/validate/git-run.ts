/**
 * One git process per call, its whole output collected: what the read-only git calls of
 * src/validate/git.ts need, on node:child_process.
 *
 * Not execa (which runs sops): loading execa was the largest single cost of `keyfleet validate`
 * and `keyfleet diff` (about 25 ms of module evaluation, `human-signals` building its tables, on
 * this project's 2-core machine; issue 15's start-up budget). These calls use none of what execa
 * adds: no input, no timeout, no environment of their own (git inherits the parent's, as execa's
 * default `extendEnv` gives it), no shell. docs/dependencies.md records the choice.
 *
 * The result mirrors the fields git.ts read from execa's `reject: false` result, so a failure is
 * data, never a throw: `failed`, the spawn error's `code` (ENOENT when git is missing), stderr
 * as text and stdout as bytes, nothing stripped.
 */
import { spawn } from 'node:child_process'

/** What one git run gave back. */
export interface GitRun {
    /** True when git could not start, exited non-zero, was killed, or wrote more than `maxBuffer`. */
    readonly failed: boolean
    /** The spawn error's code (`ENOENT`: git is not on PATH) when git could not start. */
    readonly code?: string
    /** git's exit code; undefined when it never started or was killed by a signal. */
    readonly exitCode?: number
    /** Everything git wrote to stdout (empty after a `maxBuffer` overflow). */
    readonly stdout: Buffer
    /** Everything git wrote to stderr, as UTF-8. */
    readonly stderr: string
}

/** Default cap on stdout: a read larger than this fails instead of filling memory. */
const MAX_BUFFER = 256 * 1024 * 1024

/**
 * Runs `git ARGS` in `cwd` with stdin closed and collects its output.
 * Never rejects: every failure is reported in the result.
 */
export const runGit = (cwd: string, args: readonly string[], maxBuffer = MAX_BUFFER): Promise<GitRun> =>
    new Promise((resolve) => {
        const out: Buffer[] = []
        const err: Buffer[] = []
        let size = 0
        let overflow = false
        let settled = false
        const finish = (run: GitRun): void => {
            if (settled) return
            settled = true
            resolve(run)
        }
        // git could not start; never the error's message, which quotes the arguments.
        const notStarted = (error: NodeJS.ErrnoException): void => {
            finish({ failed: true, ...(error.code === undefined ? {} : { code: error.code }), stdout: Buffer.alloc(0), stderr: Buffer.concat(err).toString('utf8') })
        }
        let child: ReturnType<typeof spawn>
        try {
            child = spawn('git', [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
        } catch (error) {
            // A synchronous refusal (an argument with a NUL byte).
            notStarted(error as NodeJS.ErrnoException)
            return
        }
        child.on('error', notStarted)
        child.stdout?.on('data', (chunk: Buffer) => {
            if (overflow) return
            size += chunk.length
            if (size > maxBuffer) {
                overflow = true
                out.length = 0
                child.kill()
                return
            }
            out.push(chunk)
        })
        // stderr is kept to its first 64 kB: only its first line is ever shown.
        let errSize = 0
        child.stderr?.on('data', (chunk: Buffer) => { if (errSize < 65_536) { err.push(chunk); errSize += chunk.length } })
        // 'close', not 'exit': both pipes have been read to their end.
        child.on('close', (exitCode: number | null) => {
            finish({
                failed: overflow || exitCode !== 0,
                ...(exitCode === null ? {} : { exitCode }),
                stdout: Buffer.concat(out),
                stderr: Buffer.concat(err).toString('utf8'),
            })
        })
    })
