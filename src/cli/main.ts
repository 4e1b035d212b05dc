#!/usr/bin/env node
/**
 * The `keyfleet` executable: wires the real process into {@link runCli}.
 *
 * Start-up budget (issue 15): everything here runs before any command, so it loads nothing a
 * command may not need. The atomic-write module (and node:crypto with it) loads only when a
 * signal arrives; process.stdin/stdout/stderr are node's lazy getters, touched only when a command
 * uses them (creating a stream loads node's stream, net or tty modules).
 */
import { fstatSync, writeSync } from 'node:fs'
import type { CliContext } from './command.js'
import { ExitCode } from './exit-codes.js'
import { runCli } from './run.js'

// Node >= 22.1 keeps V8's compiled code on disk between runs (in os.tmpdir(); NODE_DISABLE_COMPILE_CACHE=1
// turns it off), and the command chunks load after this line. Node 20 has no such API for ES modules.
// Asked only there: on node 20 loading node:module (and its source-map support) is start-up time for nothing.
if (Number(process.versions.node.split('.')[0]) >= 22) (process.getBuiltinModule('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.()

// Ctrl-C or a kill: remove temp copies in flight (finally blocks do not run on exit). A command
// that writes temps has loaded repo/atomic.js already, so the import resolves at once.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
        const code = signal === 'SIGINT' ? 130 : 143
        void import('../repo/atomic.js').then(({ removePendingTemps }) => removePendingTemps()).finally(() => process.exit(code))
    })
}

/** Whether runCli has settled (the exit code is its answer from then on). */
let settled = false
// `keyfleet validate | head -1`: a reader that stops early is not an error.
const quietOnEpipe = <T extends NodeJS.WriteStream>(stream: T): T => {
    stream.on('error', (error: NodeJS.ErrnoException) => {
        // Before runCli settles, process.exitCode holds the failure placeholder below: a closed reader is not that.
        if (error.code === 'EPIPE') process.exit(settled ? (process.exitCode ?? 0) : 0)
        throw error
    })
    return stream
}
/**
 * For `--help` and `--version` (one string each): writes to fd 1 directly, since creating
 * process.stdout loads node's stream modules, a good part of what `--help` costs. A pipe someone
 * made non-blocking (EAGAIN) or any other failure hands the rest to process.stdout.
 */
const directStdout = (): CliContext['stdout'] => ({
    write: (chunk: string): boolean => {
        let rest = Buffer.from(chunk)
        try {
            while (rest.length > 0) rest = rest.subarray(writeSync(1, rest))
            return true
        } catch {
            return (stdout ??= quietOnEpipe(process.stdout)).write(rest)
        }
    },
}) as unknown as CliContext['stdout']

const argv = process.argv.slice(2)
const answersAlone = argv.length === 0 || (argv.length === 1 && ['--help', '-h', 'help', '--version', '-V'].includes(argv[0] as string))
let stdout: NodeJS.WriteStream | undefined
let stderr: NodeJS.WriteStream | undefined
const ctx: CliContext = {
    cwd: process.cwd(),
    env: process.env,
    get stdin() { return process.stdin },
    get stdout() { return answersAlone ? directStdout() : (stdout ??= quietOnEpipe(process.stdout)) },
    get stderr() { return (stderr ??= quietOnEpipe(process.stderr)) },
    // A terminal is a character device; a pipe or a file is not (/dev/null is one: then stderr decides).
    stderrMayBeTTY: () => {
        try {
            return fstatSync(2).isCharacterDevice()
        } catch {
            return true
        }
    },
}
// No top-level await: the bundle (dist/cli/main.js) is CommonJS, so that node starts it without its ES module loader.
// Until runCli settles the exit code is a failure: a promise that never settles (a lost callback) must not
// exit 0, as an unsettled top-level await did not. runCli reports every error itself; a rejection here is a
// bug, reported without its message (which could quote input).
process.exitCode = ExitCode.usage
runCli(argv, ctx).then((code) => { settled = true; process.exitCode = code }, (error: unknown) => {
    settled = true
    writeSync(2, `keyfleet: internal error (${error instanceof Error ? error.constructor.name : typeof error}); please report it\n`)
    process.exitCode = ExitCode.usage
})
