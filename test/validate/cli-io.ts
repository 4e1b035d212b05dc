/** In-process `runCli` with captured output, for the validate/diff/scan/hook CLI tests. */
import { Readable, Writable } from 'node:stream'
import { runCli } from '../../src/cli/run.js'

/** What a run printed and returned. */
export interface CliRun { readonly code: number; readonly stdout: string; readonly stderr: string }

const sink = (): Writable & { text: () => string } => {
    const chunks: Buffer[] = []
    const w = new Writable({ write(chunk, _enc, cb) { chunks.push(Buffer.from(chunk)); cb() } })
    return Object.assign(w, { text: () => Buffer.concat(chunks).toString('utf8') })
}

/** Runs `keyfleet <argv>` in `cwd` with `env` (no inherited SOPS_AGE_KEY unless given). */
export const cli = async (argv: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> => {
    const stdout = sink()
    const stderr = sink()
    const code = await runCli(argv, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdin: Readable.from([]), stdout, stderr })
    return { code, stdout: stdout.text(), stderr: stderr.text() }
}
