#!/usr/bin/env node
/** The `keyfleet` executable: wires the real process into {@link runCli}. */
import { removePendingTemps } from '../repo/atomic.js'
import { runCli } from './run.js'

// Ctrl-C or a kill: remove temp copies in flight (finally blocks do not run on exit).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
        removePendingTemps()
        process.exit(signal === 'SIGINT' ? 130 : 143)
    })
}
// `keyfleet validate | head -1`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
        throw error
    })
}
const code = await runCli(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
})
process.exitCode = code
