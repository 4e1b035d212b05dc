/**
 * Fake LLM providers on loopback for the live-check tests: real HTTP servers
 * on 127.0.0.1:0 that record every request (URL and all headers) and the
 * most requests they ever had in flight.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach } from 'vitest'
import { builtinSecrets, type SecretSpec } from '../../src/catalog/index.js'

/** One request as the server saw it. */
export interface Seen {
    readonly method: string
    readonly url: string
    readonly headers: IncomingHttpHeaders
}

/** A running fake server. */
export interface FakeServer {
    /** `http://127.0.0.1:<port>` */
    readonly url: string
    readonly seen: Seen[]
    /** Highest number of requests in flight at once. */
    readonly maxInFlight: () => number
    close(): Promise<void>
}

/** What a handler may do; `req` and `res` are the node objects. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

/** Starts a server answering with `handler`. */
export const startServer = async (handler: Handler): Promise<FakeServer> => {
    const seen: Seen[] = []
    let inFlight = 0
    let max = 0
    const server = createServer((req, res) => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } })
        inFlight++
        max = Math.max(max, inFlight)
        let counted = true
        const release = (): void => {
            if (counted) inFlight--
            counted = false
        }
        res.on('close', release)
        void Promise.resolve(handler(req, res)).catch(() => res.destroy())
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return {
        url: `http://127.0.0.1:${port}`,
        seen,
        maxInFlight: () => max,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
        }),
    }
}

/** Sends JSON. */
export const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
}

/** The catalog spec of a service. */
export const specOf = (service: string): SecretSpec => {
    const spec = builtinSecrets.find((s) => s.service === service)
    if (!spec) throw new Error(`no builtin ${service}`)
    return spec
}

/** The key a request carried, read the way `service` expects it; undefined when the shape is wrong. */
export const keyFrom = (service: string, headers: IncomingHttpHeaders): string | undefined => {
    if (service === 'claude') return headers['anthropic-version'] === '2023-06-01' ? headers['x-api-key'] as string | undefined : undefined
    if (service === 'gemini') return headers['x-goog-api-key'] as string | undefined
    const auth = headers.authorization
    return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined
}

/**
 * Each provider's answer to a bad key, shaped like the real one. The messages
 * echo the key whole, as a misbehaving proxy might, so tests prove no body
 * text reaches a result.
 */
export const rejection = (service: string, key: string): { status: number; body: unknown } => {
    switch (service) {
        case 'claude': return { status: 401, body: { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${key}` } } }
        case 'openai': return { status: 401, body: { error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } }
        case 'gemini': return {
            status: 400,
            body: { error: { code: 400, message: `API key not valid. Please pass a valid API key. ${key}`, status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] } },
        }
        case 'fireworks': return { status: 401, body: { error: { object: 'error', type: 'invalid_request_error', code: 'UNAUTHORIZED', message: `The API key you provided is invalid: ${key}` } } }
        default: return { status: 401, body: { detail: { error: `Unauthorized ${key}` } } }
    }
}

/** A provider that accepts `validKeys` on its catalog path with its exact auth shape and rejects anything else its way. */
export const fakeProvider = (service: string, validKeys: readonly string[]): Handler => (req, res) => {
    const spec = specOf(service)
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== spec.probe?.path) return json(res, 404, { error: { message: 'not found' } })
    const key = keyFrom(service, req.headers)
    if (key !== undefined && validKeys.includes(key)) return json(res, 200, { object: 'list', data: [{ id: 'model-1' }] })
    const { status, body } = rejection(service, key ?? '')
    return json(res, status, body)
}

/** Valid-looking keys per provider (pass the builtin format rules). */
export const sampleKey = (service: string, tag = 'A'): string => {
    const pad = (n: number): string => tag.repeat(n).slice(0, n)
    switch (service) {
        case 'claude': return `sk-ant-api03-${pad(40)}`
        case 'openai': return `sk-proj-${pad(40)}`
        case 'gemini': return `AIza${pad(35)}`
        case 'fireworks': return `fw_${pad(30)}`
        default: return pad(32)
    }
}

/**
 * A `serve(handler)` for one test file: every server it starts is closed after
 * each test. Call it at module level.
 */
export const useFakeServers = (): ((handler: Handler) => Promise<FakeServer>) => {
    const servers: FakeServer[] = []
    afterEach(async () => {
        await Promise.all(servers.splice(0).map((s) => s.close()))
    })
    return async (handler) => {
        const server = await startServer(handler)
        servers.push(server)
        return server
    }
}
