/*
 * Smoke test of test/helpers/kube.ts: a real kube-apiserver v1.33.13 on
 * etcd, RBAC on. It answers the admin, refuses a user RBAC has not granted,
 * authenticates ServiceAccount tokens, and proxies `pods/NAME:PORT/proxy/…`
 * to a server on this machine once the pod's status (set through the status
 * subresource, as a kubelet would) names an address the proxy accepts. The
 * pod proxy refuses 127.0.0.1 ("address not allowed"): the minimum is a pod
 * IP on a non-loopback interface of this machine, no Node, no kubelet.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireKubeTools, startKube, type Kube } from '../helpers/kube.js'

let kube: Kube | undefined
let web: Server | undefined
const requests: string[] = []

beforeAll(async () => {
    const tools = await requireKubeTools('test/action/kube-apiserver.test.ts')
    if (tools !== undefined) kube = await startKube(tools)
}, 300_000)
afterAll(async () => {
    web?.close()
    await kube?.stop()
}, 60_000)

const pod = (name: string, port: number): string => JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'registry.invalid/web:1', ports: [{ containerPort: port }] }] },
})

describe('a real kube-apiserver (test/helpers/kube.ts)', () => {
    it('is ready and answers the admin (system:masters)', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        const v = await kube.kubectl(['version', '-o', 'json'])
        expect(v.code, v.stderr).toBe(0)
        expect((JSON.parse(v.stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion).toBe('v1.33.13')
        const who = await kube.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}'])
        expect(who.stdout).toContain('system:masters')
    })

    it('forbids a user until a RoleBinding grants it, and authenticates ServiceAccount tokens', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        await kube.namespace('rbac-smoke')
        const alice = await kube.kubeconfigFor({ user: 'alice', groups: ['devs'] })
        const denied = await kube.kubectl(['get', 'pods', '-n', 'rbac-smoke'], { kubeconfig: alice.path })
        expect(denied.code).not.toBe(0)
        expect(denied.stderr).toContain('User "alice" cannot list resource "pods"')
        expect((await kube.kubectl(['create', 'role', 'reader', '-n', 'rbac-smoke', '--verb=list', '--resource=pods'])).code).toBe(0)
        expect((await kube.kubectl(['create', 'rolebinding', 'reader', '-n', 'rbac-smoke', '--role=reader', '--group=devs'])).code).toBe(0)
        const allowed = await kube.kubectl(['get', 'pods', '-n', 'rbac-smoke'], { kubeconfig: alice.path })
        expect(allowed.code, allowed.stderr).toBe(0)

        const sa = await kube.kubeconfigFor({ serviceAccount: 'deployer', namespace: 'rbac-smoke' })
        const who = await kube.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig: sa.path })
        expect(who.stdout).toBe('system:serviceaccount:rbac-smoke:deployer')
    })

    it('proxies pods/NAME:PORT/proxy/… to a server at the pod IP set through the status subresource', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        const k = kube
        web = createServer((req, res) => { requests.push(req.url ?? ''); res.end(`hello ${req.url ?? ''}`) })
        await new Promise<void>((resolve) => web?.listen(0, k.podIP, resolve))
        const port = (web.address() as AddressInfo).port
        await k.namespace('proxy-smoke')
        const created = await k.kubectl(['create', '-n', 'proxy-smoke', '-f', '-'], { input: pod('web-0', port) })
        expect(created.code, created.stderr).toBe(0)

        // Pending, no IP yet: nothing to proxy to.
        const early = await k.kubectl(['get', '--raw', `/api/v1/namespaces/proxy-smoke/pods/web-0:${port}/proxy/status`])
        expect(early.code).not.toBe(0)

        // 127.0.0.1 is refused by the API server itself (not a global unicast address).
        await k.setPodStatus('proxy-smoke', 'web-0', '127.0.0.1')
        const loop = await k.kubectl(['get', '--raw', `/api/v1/namespaces/proxy-smoke/pods/web-0:${port}/proxy/status`])
        expect(loop.code).not.toBe(0)
        expect(loop.stderr).toContain('address not allowed')

        await k.setPodStatus('proxy-smoke', 'web-0')
        const phase = await k.kubectl(['get', 'pod', 'web-0', '-n', 'proxy-smoke', '-o', 'jsonpath={.status.phase} {.status.podIP}'])
        expect(phase.stdout).toBe(`Running ${k.podIP}`)
        const proxied = await k.kubectl(['get', '--raw', `/api/v1/namespaces/proxy-smoke/pods/web-0:${port}/proxy/status?x=1`])
        expect(proxied.code, proxied.stderr).toBe(0)
        expect(proxied.stdout).toBe('hello /status?x=1')
        expect(requests).toEqual(['/status?x=1'])
    })
})
