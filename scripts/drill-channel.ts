/**
 * The drill's deploy, as the deploy workflow runs it: the committed GitHub
 * Action bundle (.github/actions/keyfleet/dist) with `command: render`, then
 * `command: publish` (signs every bundle agent's bundle, pushes the bundles
 * branch to the repository's origin, PUTs each bundle to `publish-url`),
 * with the INPUT_* variables a runner sets. The PUTs go to {@link startChannel},
 * a small loopback object store that answers GETs with an ETag and 304s,
 * which is what hosts poll. Names and counts only: no value is printed.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

/** A loopback object store: PUT stores a bundle, GET serves it with an ETag (304 on If-None-Match). */
export interface Channel {
    readonly server: Server
    /** `http://127.0.0.1:PORT` */
    readonly origin: string
    /** Requests by method and status, e.g. `GET 304`. */
    readonly requests: Record<string, number>
}

/** Starts the channel on loopback. */
export const startChannel = async (): Promise<Channel> => {
    const objects = new Map<string, { body: Buffer; etag: string }>()
    const requests: Record<string, number> = {}
    const server = createServer((req, res) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname
        const answer = (status: number, headers: Record<string, string> = {}, body?: Buffer): void => {
            const k = `${req.method ?? ''} ${status}`
            requests[k] = (requests[k] ?? 0) + 1
            res.writeHead(status, headers).end(body)
        }
        if (req.method === 'PUT') {
            const chunks: Buffer[] = []
            req.on('data', (c: Buffer) => chunks.push(c))
            req.on('end', () => {
                const body = Buffer.concat(chunks)
                objects.set(path, { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` })
                answer(201)
            })
            return
        }
        const object = objects.get(path)
        if (req.method !== 'GET' || object === undefined) { answer(404); return }
        if (req.headers['if-none-match'] === object.etag) { answer(304, { etag: object.etag }); return }
        answer(200, { etag: object.etag, 'content-type': 'text/plain' }, object.body)
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

/** One step of the action: exit code, its outputs (GITHUB_OUTPUT) and what it printed. */
export interface ActionStep { readonly code: number | null; readonly outputs: Record<string, string>; readonly out: string }

/** Parses GITHUB_OUTPUT (`name<<DELIM` … `DELIM`, as the actions toolkit writes it, or `name=value`). */
const parseOutputs = (text: string): Record<string, string> => {
    const out: Record<string, string> = {}
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string
        const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
        if (heredoc) {
            const body: string[] = []
            for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i] as string)
            out[heredoc[1] as string] = body.join('\n')
        } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
    return out
}

/**
 * Runs the committed action bundle once in `workspace`, as a runner does.
 * @param inputs - the step's `with:` inputs (values go through the environment, never argv).
 */
export const runActionStep = (root: string, workspace: string, inputs: Record<string, string>, env: Record<string, string | undefined>): Promise<ActionStep> => {
    const temp = mkdtempSync(join(workspace, '..', 'runner-'))
    const files = { GITHUB_OUTPUT: join(temp, 'output'), GITHUB_STEP_SUMMARY: join(temp, 'summary'), GITHUB_ENV: join(temp, 'env') }
    for (const file of Object.values(files)) writeFileSync(file, '')
    const stepEnv: Record<string, string | undefined> = { ...env, ...files, RUNNER_TEMP: temp, GITHUB_WORKSPACE: workspace }
    for (const [name, value] of Object.entries(inputs)) stepEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [join(root, '.github', 'actions', 'keyfleet', 'dist', 'index.js')], { cwd: workspace, env: stepEnv, stdio: ['ignore', 'pipe', 'pipe'] })
        const chunks: Buffer[] = []
        child.stdout.on('data', (c: Buffer) => chunks.push(c))
        child.stderr.on('data', (c: Buffer) => chunks.push(c))
        child.on('error', reject)
        child.on('close', (code) => {
            const outputs = parseOutputs(readFileSync(files.GITHUB_OUTPUT, 'utf8'))
            rmSync(temp, { recursive: true, force: true })
            resolve({ code, outputs, out: Buffer.concat(chunks).toString('utf8') })
        })
    })
}

/** The action's output with every `::add-mask::` line (which names the values masked) left out, for an error message. */
export const printable = (out: string): string => out.split('\n').filter((l) => !l.startsWith('::add-mask::')).slice(-20).join('\n')
