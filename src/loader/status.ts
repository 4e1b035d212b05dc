/**
 * The agent's status endpoint (issue 17): which render it serves, whether its
 * source is healthy, and when its keys last changed, as JSON (for
 * `keyfleet rollout status`) and in the Prometheus text format (for the
 * monitoring users already run). Names, ids, codes and numbers only: never a
 * value, a hint or a source path. `node:http` is loaded only by `serveStatus`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Deployed } from './deployed.js'
import type { SourceStatus } from './types.js'
import type { KeyStats } from './usage.js'

/** Format tag of the JSON status document. */
export const STATUS_FORMAT = 'keyfleet-status/v1'
/** The default port of `serveStatus`, and the port `keyfleet rollout status` reads unless deployment.yaml's `status_port` says otherwise. */
export const DEFAULT_STATUS_PORT = 9469
/** Where `serveStatus` answers JSON (any other path but `/metrics` is a 404 there). */
export const STATUS_PATH = '/keyfleet/status'
/** Where `serveStatus` answers the Prometheus text format. */
export const METRICS_PATH = '/metrics'

/** What the status is built from; the store provides it. */
export interface StatusInput {
    readonly deployed: Deployed | undefined
    readonly generation: number
    readonly names: readonly string[]
    readonly source: SourceStatus
    /** Epoch ms of the last `change` event, undefined before one. */
    readonly lastChangeMs: number | undefined
    /** Per-member use of each service (`keys.stats()`, issue 18); names and numbers only. */
    readonly stats?: KeyStats | undefined
}

/** The JSON status document (`keyfleet-status/v1`). */
export interface StatusReport {
    readonly keyfleet: typeof STATUS_FORMAT
    /** What the agent serves; null before a source was read (or without a source). */
    readonly deployed: Deployed | null
    /** The loader's local change counter (`keys.generation`). */
    readonly localGeneration: number
    /** Canonical names served, sorted. */
    readonly names: readonly string[]
    readonly source: {
        readonly kind: string | null
        readonly mode: SourceStatus['mode']
        readonly healthy: boolean
        /** The current problem's code (e.g. `LOADER_DECRYPT_FAILED`), null while healthy. */
        readonly problem: string | null
    }
    /** ISO 8601 time of the last change of the key set, null before one. */
    readonly lastChange: string | null
    /** `keys.stats()`: per pool member calls, cool-downs and last remaining quota (names and numbers only); null without it. */
    readonly stats: KeyStats | null
}

/** A node `http` request listener: mount it in the agent's own server. */
export type StatusHandler = (req: IncomingMessage, res: ServerResponse) => void

/** Options of `keys.serveStatus`. */
export interface ServeStatusOptions {
    /** TCP port, default {@link DEFAULT_STATUS_PORT} (9469); 0 picks a free one, see {@link StatusServer.port}. */
    readonly port?: number | undefined
    /** Address to listen on. Default `127.0.0.1`; a pod whose status `rollout status` reads through the API server's pod proxy listens on `0.0.0.0`. */
    readonly host?: string | undefined
}

/** A status server opened by `keys.serveStatus`; closed with the store. */
export interface StatusServer {
    readonly host: string
    readonly port: number
    /** `http://host:port`. */
    readonly url: string
    /** Stops listening. Idempotent. */
    close(): Promise<void>
}

/** Builds the JSON status document. */
export const statusReport = (input: StatusInput): StatusReport => ({
    keyfleet: STATUS_FORMAT,
    deployed: input.deployed ?? null,
    localGeneration: input.generation,
    names: [...input.names],
    source: {
        kind: input.source.kind ?? null,
        mode: input.source.mode,
        healthy: input.source.path !== undefined && input.source.problem === undefined && input.source.kind !== undefined,
        problem: input.source.problem?.code ?? null,
    },
    lastChange: input.lastChangeMs === undefined ? null : new Date(input.lastChangeMs).toISOString(),
    stats: input.stats ?? null,
})

// Prometheus text format 0.0.4: a label value escapes backslash, double quote and line feed.
const label = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

/** The Prometheus text exposition (format 0.0.4) of a status document. */
export const statusMetrics = (report: StatusReport): string => {
    const lines: string[] = []
    const metric = (name: string, help: string, samples: readonly (readonly [labels: string, value: number])[]): void => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
        for (const [labels, value] of samples) lines.push(`${name}${labels} ${String(value)}`)
    }
    const d = report.deployed
    metric('keyfleet_generation_info', 'The render (generation id) whose keys this agent serves; always 1.',
        d ? [[`{environment="${label(d.environment ?? '')}",agent="${label(d.agent ?? '')}",generation="${label(d.generation)}"}`, 1]] : [])
    metric('keyfleet_source_healthy', '1 when the last read of the key source succeeded, 0 while the last good keys are kept despite a problem.', [['', report.source.healthy ? 1 : 0]])
    metric('keyfleet_last_change_timestamp_seconds', 'Unix time of the last change of the served key set.',
        report.lastChange === null ? [] : [['', Date.parse(report.lastChange) / 1000]])
    metric('keyfleet_local_generation', 'The loader\'s local change counter (keys.generation).', [['', report.localGeneration]])
    metric('keyfleet_keys', 'Number of keys served.', [['', report.names.length]])
    const members = (report.stats?.services ?? []).flatMap((svc) => svc.members.map((m) => [`{service="${label(svc.service)}",member="${label(m.name)}"}`, m] as const))
    metric('keyfleet_member_weight', 'The selection weight of each pool member (option, deployment.yaml, catalog, or 1).', members.map(([l, m]) => [l, m.weight]))
    metric('keyfleet_member_calls', 'Calls made with each pool member (picks and keys.fetch), since the store opened.', members.map(([l, m]) => [l, m.calls]))
    metric('keyfleet_member_cooling_seconds', 'Seconds a member still sits out after a 429/401 (0 when usable).', members.map(([l, m]) => [l, m.coolingForMs / 1000]))
    metric('keyfleet_member_remaining_requests', 'Remaining requests the provider last reported for the member.',
        members.flatMap(([l, m]) => (m.remainingRequests === null ? [] : [[l, m.remainingRequests] as const])))
    return `${lines.join('\n')}\n`
}

/**
 * A request listener answering GET and HEAD: a path ending in `/metrics` gets
 * the Prometheus text, any other path the JSON document.
 * @param input - called per request, so every answer is current.
 */
export const statusHandler = (input: () => StatusInput): StatusHandler => (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n')
        return
    }
    const path = (req.url ?? '/').split('?')[0] as string
    const report = statusReport(input())
    const prometheus = path.endsWith(METRICS_PATH)
    const body = prometheus ? statusMetrics(report) : `${JSON.stringify(report)}\n`
    res.writeHead(200, {
        'content-type': prometheus ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
    })
    res.end(req.method === 'HEAD' ? undefined : body)
}

/**
 * Listens on `host:port` with a server answering {@link STATUS_PATH} (and `/`)
 * with JSON and {@link METRICS_PATH} with Prometheus text; 404 elsewhere.
 * @param persistent - false: the server does not keep the process alive (unref).
 */
export const serveStatus = async (handler: StatusHandler, options: ServeStatusOptions = {}, persistent = true): Promise<StatusServer> => {
    const { createServer } = await import('node:http')
    const host = options.host ?? '127.0.0.1'
    const server: Server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0] as string
        if (path === '/' || path === STATUS_PATH || path === METRICS_PATH) handler(req, res)
        else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: try ${STATUS_PATH} or ${METRICS_PATH}\n`)
    })
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(options.port ?? DEFAULT_STATUS_PORT, host, () => { server.off('error', reject); resolve() })
    })
    // As the store's watches: a store opened with persistent false does not keep the process alive.
    if (!persistent) server.unref()
    const port = (server.address() as AddressInfo).port
    let closed: Promise<void> | undefined
    return {
        host,
        port,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        close: () => (closed ??= new Promise<void>((resolve) => {
            server.close(() => { resolve() })
            server.closeAllConnections()
        })),
    }
}
