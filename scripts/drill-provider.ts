/**
 * The drill's fake provider on loopback: accepts exactly the active keys on
 * `GET /v1/models`, counts every call by key (`old`, `new`) and status and
 * by agent, and serves OpenAI's project API keys admin API (list, delete),
 * which `rotate-key` step c uses to revoke the old key. Never prints a value.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the provider saw. */
export interface Provider {
    readonly server: Server
    readonly url: string
    /** The keys that work now. */
    readonly active: Set<string>
    /** Answers by key label and HTTP status. */
    readonly byKey: Record<string, Record<string, number>>
    /** Per agent: when its first call with the new key succeeded (performance.now()). */
    readonly firstNew: Map<string, number>
    /** Per agent: calls with the old key after the revocation. */
    readonly oldAfterRevoke: Map<string, number>
    /** When the old key was revoked (performance.now()), Infinity before. */
    revokedAt(): number
}

/** The OpenAI admin API path of the drill's project. */
export const PROJECT = 'proj_drill'

/** Starts the provider; `old` is active from the start, `fresh` once added to `active`. */
export const startProvider = async (old: string, fresh: string, adminKey: string): Promise<Provider> => {
    const active = new Set([old])
    const label = (k: string): string => (k === old ? 'old' : k === fresh ? 'new' : 'other')
    const byKey: Record<string, Record<string, number>> = {}
    const firstNew = new Map<string, number>()
    const oldAfterRevoke = new Map<string, number>()
    let revokedAt = Infinity
    const server = createServer((req, res) => {
        const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
        if (req.url === '/v1/models') {
            const status = active.has(auth) ? 200 : 401
            const l = label(auth)
            const agent = String(req.headers['x-drill-agent'])
            const counts = byKey[l] ??= {}
            counts[status] = (counts[status] ?? 0) + 1
            const now = performance.now()
            if (l === 'new' && status === 200 && !firstNew.has(agent)) firstNew.set(agent, now)
            if (l === 'old' && now > revokedAt) oldAfterRevoke.set(agent, (oldAfterRevoke.get(agent) ?? 0) + 1)
            res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"data":[]}' : '{"error":{"code":"invalid_api_key"}}')
            return
        }
        const base = `/v1/organization/projects/${PROJECT}/api_keys`
        if (auth !== adminKey) { res.writeHead(401).end('{}'); return }
        const listed = [...active].map((k) => ({ id: `key_${label(k)}`, redacted_value: `${k.slice(0, 8)}...${k.slice(-4)}` }))
        if (req.method === 'GET' && req.url?.startsWith(`${base}?`)) { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: listed, has_more: false })); return }
        const hit = [...active].find((k) => req.method === 'DELETE' && req.url === `${base}/key_${label(k)}`)
        if (hit !== undefined) { active.delete(hit); revokedAt = performance.now(); res.writeHead(200).end('{"deleted":true}'); return }
        res.writeHead(404).end('{}')
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, active, byKey, firstNew, oldAfterRevoke, revokedAt: () => revokedAt }
}
