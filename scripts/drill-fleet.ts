/**
 * The drill's processes: agent processes (scripts/drill-agent.ts) and, for
 * hosts that run it, `keyfleet agent sync` (the built CLI). Each agent
 * prints `{"port":…}` when ready and `{"calls":…,"failed":…}` when stopped;
 * agent sync prints its status URL and each generation it holds on stderr.
 * Those lines carry names, ports and counts only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { AgentSpec } from './drill-agent.js'

/** A child whose output lines can be awaited one by one. */
export class Lines {
    readonly #queued: string[] = []
    #waiter: ((line: string) => void) | undefined
    readonly #exited: Promise<never>

    constructor(readonly child: ChildProcess, stream: NodeJS.ReadableStream, what: string) {
        createInterface({ input: stream }).on('line', (line) => {
            const waiter = this.#waiter
            this.#waiter = undefined
            if (waiter) waiter(line)
            else this.#queued.push(line)
        })
        this.#exited = new Promise<never>((_, reject) => { child.once('exit', (code) => { reject(new Error(`drill: ${what} exited ${String(code)} early`)) }) })
        this.#exited.catch(() => undefined)
    }

    /** The next line; rejects if the process exits first. */
    next(): Promise<string> {
        const queued = this.#queued.shift()
        if (queued !== undefined) return Promise.resolve(queued)
        return Promise.race([new Promise<string>((resolve) => { this.#waiter = resolve }), this.#exited])
    }

    /** The next line matching `re` (others are skipped). */
    async match(re: RegExp): Promise<RegExpExecArray> {
        for (;;) {
            const m = re.exec(await this.next())
            if (m) return m
        }
    }

    /** Stops listening for an early exit (the drill is stopping it on purpose). */
    release(): void { this.child.removeAllListeners('exit') }
}

/** A started agent process and its status port. */
export interface AgentProcess { readonly lines: Lines; readonly port: number }

/** Starts one agent process; resolves when it serves keys. */
export const startAgent = async (script: string, spec: AgentSpec, children: ChildProcess[]): Promise<AgentProcess> => {
    const child = spawn(process.execPath, [script, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(child)
    const lines = new Lines(child, child.stdout as NodeJS.ReadableStream, `agent ${spec.name}`)
    return { lines, port: (JSON.parse(await lines.next()) as { port: number }).port }
}

/** Stops an agent; resolves with its counts. */
export const stopAgent = async (agent: AgentProcess): Promise<{ calls: number; failed: number }> => {
    const line = agent.lines.next()
    agent.lines.release()
    agent.lines.child.kill('SIGTERM')
    return JSON.parse(await line) as { calls: number; failed: number }
}

/**
 * Starts `keyfleet agent sync URL --out DIR --status-port 0` as a host runs
 * it (docs/hosts.md); resolves with its status URL once DIR holds a bundle.
 */
export const startSync = async (cli: string, args: readonly string[], children: ChildProcess[], name: string): Promise<{ statusUrl: string; lines: Lines }> => {
    const child = spawn(process.execPath, [cli, 'agent', 'sync', ...args, '--status-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME } })
    children.push(child)
    const lines = new Lines(child, child.stderr as NodeJS.ReadableStream, `agent sync of ${name}`)
    const statusUrl = (await lines.match(/status at (http:\/\/\S+)/))[1] as string
    await lines.match(/now holds generation/)
    return { statusUrl, lines }
}
