/** Shared by the rollout and rotate-key tests: which kubectl to run, a fake API server with a pod proxy. */
import { accessSync, constants, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { stringify } from 'yaml'
import { delimiter, join } from 'node:path'
import { repoRoot } from '../helpers/tools.js'

/** The pinned kubectl (.tools/bin, ensure-tools --with-kube) when built, else the first kubectl on PATH. */
export const kubectlPath = async (): Promise<string> => {
    const candidates = [join(process.env.KEYFLEET_TOOLS_DIR ?? join(repoRoot, '.tools', 'bin'), 'kubectl'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'kubectl'))]
    for (const path of candidates) {
        try { accessSync(path, constants.X_OK); return path } catch { /* next */ }
    }
    throw new Error('the rollout tests need kubectl: run bash scripts/ensure-tools.sh --with-kube')
}

/** A pod the fake API server lists: its status server listens on 127.0.0.1:port. */
export interface Pod { ns: string; name: string; app: string; port: number }

/** A fake API server: Deployments' selectors, pod lists, and the pod proxy to each pod's status port on loopback. */
export const fakeApiServer = async (pods: Pod[]): Promise<{ server: Server; url: string; requests: string[] }> => {
    const requests: string[] = []
    const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x')
        requests.push(url.pathname)
        const json = (code: number, body: unknown): void => { res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
        let m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(url.pathname)
        if (m) { json(200, { kind: 'Deployment', spec: { selector: { matchLabels: { app: m[2] } } } }); return }
        m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname)
        if (m) {
            const app = (url.searchParams.get('labelSelector') ?? '').replace(/^app=/, '')
            json(200, { kind: 'PodList', items: pods.filter((p) => p.ns === m?.[1] && p.app === app).map((p) => ({ metadata: { name: p.name }, status: { phase: 'Running' } })) })
            return
        }
        m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+):(\d+)\/proxy(\/.*)$/.exec(url.pathname)
        if (m) {
            const pod = pods.find((p) => p.ns === m?.[1] && p.name === m[2])
            if (!pod || String(pod.port) !== m[3]) { json(503, { kind: 'Status', message: 'error trying to reach service: dial tcp: connection refused' }); return }
            const up = request({ host: '127.0.0.1', port: pod.port, path: m[4], method: 'GET' }, (r) => { res.writeHead(r.statusCode ?? 502, r.headers); r.pipe(res) })
            up.on('error', () => { json(503, { kind: 'Status', message: 'connection refused' }) })
            up.end()
            return
        }
        json(404, { kind: 'Status', message: 'not found' })
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}


/** A kubeconfig (0600) in `dir` pointing at `server`. */
export const fakeKubeconfig = (dir: string, server: string): string => {
    const path = join(dir, 'config')
    writeFileSync(path, stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
        clusters: [{ name: 'fake', cluster: { server } }],
        users: [{ name: 'u', user: { token: 'not-a-secret' } }],
        contexts: [{ name: 'c', context: { cluster: 'fake', user: 'u' } }],
    }), { mode: 0o600 })
    return path
}
