#!/usr/bin/env node
/** The `keyfleet` executable: wires the real process into {@link runCli}. */
import { runCli } from './run.js'

process.on('SIGINT', () => process.exit(130))
const code = await runCli(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
})
process.exitCode = code
