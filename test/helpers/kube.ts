/**
 * A real Kubernetes control plane for tests: etcd (Debian's etcd-server) and
 * kube-apiserver v1.33.13 (built by `scripts/ensure-tools.sh --with-kube`
 * from tools/kube) on loopback, RBAC on, nothing else: no scheduler, no
 * controller-manager, no kubelet. Start it once per test file (in
 * `beforeAll`: `requireKubeTools`, then `startKube`; `kube.stop()` in
 * `afterAll`); it takes seconds.
 *
 * What a test must know because no controller runs:
 * - a namespace gets no `default` ServiceAccount, and the ServiceAccount
 *   admission plugin refuses pods without one: use `namespace(ns)`;
 * - Deployments get no ReplicaSets and pods are never scheduled: create the
 *   pods yourself and set their status through the `status` subresource
 *   (`setPodStatus`);
 * - the API server proxies `pods/NAME:PORT/proxy/...` to `status.podIP` only
 *   if it is a global unicast address (pkg/registry/core/pod/strategy.go:
 *   `!ip.IsGlobalUnicast()` → "address not allowed"), so 127.0.0.1 is
 *   refused. `podIP` is this machine's first non-loopback address: a
 *   server listening there is reachable through the pod proxy, with no Node
 *   object and no kubelet.
 *
 * Missing tools fail the test when KEYFLEET_REQUIRE_KUBE=1 (.ci/run sets it);
 * elsewhere `kubeTools()` returns the reason and the test file skips loudly.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { repoRoot } from './tools.js'

/** The version ensure-tools pins for kube-apiserver and kubectl. */
export const KUBE_VERSION = 'v1.33.13'
/** What to run when the tools are missing. */
export const KUBE_INSTALL = 'bash scripts/ensure-tools.sh --with-kube (and apt-get install etcd-server openssl)'

/** Paths of the binaries the control plane needs. */
export interface KubeTools { readonly kubeApiserver: string; readonly kubectl: string; readonly etcd: string; readonly openssl: string }

/** The outcome of one command. */
export interface Ran { readonly code: number; readonly stdout: string; readonly stderr: string }

/** Who a kubeconfig authenticates as: a user (client certificate) or a ServiceAccount (TokenRequest token). */
export type Identity = { readonly user: string; readonly groups?: readonly string[] } | { readonly serviceAccount: string; readonly namespace: string }

/** A kubeconfig on disk (mode 0600) and its text. */
export interface Kubeconfig { readonly path: string; readonly text: string }

/** A running control plane. */
export interface Kube {
    /** The admin kubeconfig (group system:masters). */
    readonly kubeconfig: string
    readonly kubectlPath: string
    /** https://127.0.0.1:PORT */
    readonly server: string
    /** An address the pod proxy accepts as status.podIP that reaches this machine. */
    readonly podIP: string
    /** A kubeconfig for a user/group (certificate signed by the test CA) or a ServiceAccount (created if missing). */
    kubeconfigFor(who: Identity): Promise<Kubeconfig>
    /** Runs the pinned kubectl, admin unless `kubeconfig` says otherwise; never throws on a non-zero exit. */
    kubectl(args: readonly string[], opts?: { kubeconfig?: string; input?: string }): Promise<Ran>
    /** Creates a namespace and its `default` ServiceAccount (no controller makes it). */
    namespace(name: string): Promise<void>
    /** Sets a pod's status (phase Running, Ready, podIP) through the status subresource. */
    setPodStatus(namespace: string, pod: string, podIP?: string): Promise<void>
    /** Stops the API server and etcd and removes every file they had. */
    stop(): Promise<void>
}

const run = (file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<Ran> =>
    new Promise((resolve) => {
        const child = execFile(file, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127
            resolve({ code, stdout, stderr: err !== null && stderr === '' ? err.message : stderr })
        })
        // A tool that exits without reading stdin (`--version`) closes the pipe
        // first; the EPIPE that follows says nothing the exit code does not.
        child.stdin?.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'EPIPE') throw error })
        child.stdin?.end(opts.input ?? '')
    })

const onPath = (name: string): string | undefined => {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
        if (dir === '') continue
        try { accessSync(join(dir, name), constants.X_OK); return join(dir, name) } catch { /* next */ }
    }
    return undefined
}

const firstLine = async (file: string, args: string[]): Promise<string> => (await run(file, args)).stdout.split('\n')[0]?.trim() ?? ''

/**
 * Finds the pinned binaries without building anything (ensure-tools does that,
 * in CI before the tests). Returns the tools, or why they cannot be used.
 */
export const kubeTools = async (): Promise<KubeTools | { missing: string }> => {
    const dir = process.env.KEYFLEET_TOOLS_DIR ?? join(repoRoot, '.tools', 'bin')
    const kubeApiserver = join(dir, 'kube-apiserver')
    const kubectl = join(dir, 'kubectl')
    const why: string[] = []
    if (await firstLine(kubeApiserver, ['--version']) !== `Kubernetes ${KUBE_VERSION}`) why.push(`${kubeApiserver} ${KUBE_VERSION}`)
    if (!(await run(kubectl, ['version', '--client'])).stdout.split('\n').includes(`Client Version: ${KUBE_VERSION}`)) why.push(`${kubectl} ${KUBE_VERSION}`)
    const etcd = onPath('etcd')
    const openssl = onPath('openssl')
    if (etcd === undefined) why.push('etcd on PATH')
    if (openssl === undefined) why.push('openssl on PATH')
    if (why.length > 0 || etcd === undefined || openssl === undefined) return { missing: `missing ${why.join(', ')}; run ${KUBE_INSTALL}` }
    return { kubeApiserver, kubectl, etcd, openssl }
}

/**
 * The tools, or undefined after a loud warning when they are missing and the
 * run does not require them; throws when KEYFLEET_REQUIRE_KUBE=1 (CI).
 */
export const requireKubeTools = async (what: string): Promise<KubeTools | undefined> => {
    const tools = await kubeTools()
    if (!('missing' in tools)) return tools
    const message = `${what} needs a real kube-apiserver: ${tools.missing}`
    if (process.env.KEYFLEET_REQUIRE_KUBE === '1') throw new Error(`${message} (KEYFLEET_REQUIRE_KUBE=1: not skipped)`)
    console.warn(`\n*** SKIPPED: ${message} ***\n`)
    return undefined
}

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address()
        srv.close(() => { if (addr !== null && typeof addr === 'object') resolve(addr.port); else reject(new Error('no port')) })
    })
})

/** This machine's first non-loopback address (IPv4 first), which the pod proxy accepts. */
export const hostPodIP = (): string => {
    const all = Object.values(networkInterfaces()).flat().filter((a) => a !== undefined && !a.internal)
    const pick = all.find((a) => a?.family === 'IPv4') ?? all.find((a) => a?.family === 'IPv6' && !a.address.startsWith('fe80'))
    if (pick === undefined) throw new Error('kube helper: this machine has no non-loopback address for a pod IP (the pod proxy refuses 127.0.0.1)')
    return pick.address
}

interface Pki { dir: string; openssl: string; ca: string; caKey: string }

const openssl = async (pki: Pki, args: string[], input?: string): Promise<void> => {
    const r = await run(pki.openssl, args, { cwd: pki.dir, input })
    if (r.code !== 0) throw new Error(`openssl ${args[0] ?? ''} failed: ${r.stderr}`)
}

/** An EC key and a certificate signed by the test CA; returns the file names. */
const issue = async (pki: Pki, name: string, subject: string, ext: string): Promise<{ cert: string; key: string }> => {
    const key = `${name}.key`
    const cert = `${name}.crt`
    await openssl(pki, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key])
    await openssl(pki, ['req', '-new', '-key', key, '-subj', subject, '-out', `${name}.csr`])
    writeFileSync(join(pki.dir, `${name}.ext`), ext)
    await openssl(pki, ['x509', '-req', '-in', `${name}.csr`, '-CA', pki.ca, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', cert])
    return { cert, key }
}

const b64file = (pki: Pki, name: string): string => readFileSync(join(pki.dir, name)).toString('base64')

const subjectPart = (s: string): string => s.replace(/[/\\=+,]/g, (c) => `\\${c}`)

const writeKubeconfig = (path: string, server: string, caData: string, user: Record<string, string>): Kubeconfig => {
    const userLines = Object.entries(user).map(([k, v]) => `    ${k}: ${v}`).join('\n')
    const text = `apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${caData}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\ncurrent-context: test\nusers:\n- name: test\n  user:\n${userLines}\n`
    writeFileSync(path, text, { mode: 0o600 })
    return { path, text }
}

const exited = (p: ChildProcess): Promise<void> => new Promise((resolve) => { if (p.exitCode !== null || p.signalCode !== null) resolve(); else p.once('exit', () => resolve()) })

const readyz = (server: string, ca: Buffer, cert: Buffer, key: Buffer): Promise<boolean> => new Promise((resolve) => {
    const req = request(`${server}/readyz`, { ca, cert, key, timeout: 5000 }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => { body += c.toString() })
        res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'ok'))
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => { req.destroy(); resolve(false) })
    req.end()
})

const tail = (s: string): string => s.split('\n').slice(-15).join('\n')

/**
 * Starts etcd and kube-apiserver; resolves when /readyz answers ok. The free
 * ports are found by binding port 0 and closing it, so another process may
 * take one in between: that start is retried with new ports.
 */
export const startKube = async (tools: KubeTools, opts: { readyTimeoutMs?: number } = {}): Promise<Kube> => {
    for (let attempt = 1; ; attempt++) {
        try {
            return await startOnce(tools, opts)
        } catch (err) {
            if (attempt >= 3 || !/address already in use/.test(String(err))) throw err
        }
    }
}

const startOnce = async (tools: KubeTools, opts: { readyTimeoutMs?: number }): Promise<Kube> => {
    const dir = mkdtempSync(join(tmpdir(), 'kf-kube-'))
    const children: ChildProcess[] = []
    const logs = new Map<ChildProcess, string>()
    const spawnLogged = (file: string, args: string[]): ChildProcess => {
        const p = spawn(file, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
        logs.set(p, '')
        const add = (c: Buffer): void => { logs.set(p, (logs.get(p) ?? '').slice(-20_000) + c.toString()) }
        p.stdout?.on('data', add)
        p.stderr?.on('data', add)
        children.push(p)
        return p
    }
    const killAll = (): void => { for (const p of children) if (p.exitCode === null) p.kill('SIGKILL') }
    process.once('exit', killAll)
    let stopped = false
    const stop = async (): Promise<void> => {
        if (stopped) return
        stopped = true
        for (const p of [...children].reverse()) {
            if (p.exitCode === null && p.signalCode === null) {
                p.kill('SIGTERM')
                const timer = setTimeout(() => p.kill('SIGKILL'), 15_000)
                await exited(p)
                clearTimeout(timer)
            }
        }
        process.removeListener('exit', killAll)
        rmSync(dir, { recursive: true, force: true })
    }
    try {
        const pki: Pki = { dir, openssl: tools.openssl, ca: 'ca.crt', caKey: 'ca.key' }
        await openssl(pki, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'])
        await openssl(pki, ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=keyfleet-test-ca', '-days', '2', '-sha256', '-out', 'ca.crt'])
        await issue(pki, 'serving', '/CN=kube-apiserver', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
        await issue(pki, 'admin', '/O=system:masters/CN=keyfleet-admin', 'extendedKeyUsage=clientAuth\n')
        await openssl(pki, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key'])

        const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()]
        const etcd = spawnLogged(tools.etcd, [
            '--name', 'default', '--data-dir', join(dir, 'etcd'),
            '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
            '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
            '--initial-cluster', `default=http://127.0.0.1:${etcdPeer}`, '--log-level', 'warn', '--logger', 'zap',
        ])
        const apiserver = spawnLogged(tools.kubeApiserver, [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            '--bind-address=127.0.0.1', `--secure-port=${securePort}`, '--advertise-address=127.0.0.1',
            // No controller keeps the `kubernetes` Service's endpoints, and a loopback endpoint is invalid anyway.
            '--endpoint-reconciler-type=none',
            `--cert-dir=${join(dir, 'certs')}`,
            `--tls-cert-file=${join(dir, 'serving.crt')}`, `--tls-private-key-file=${join(dir, 'serving.key')}`,
            `--client-ca-file=${join(dir, 'ca.crt')}`,
            '--authorization-mode=RBAC',
            // v1.33 requires all three for the TokenRequest API (ServiceAccount tokens).
            '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
            `--service-account-key-file=${join(dir, 'sa.key')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
            '--service-cluster-ip-range=10.96.0.0/24',
            '--profiling=false', '--v=0',
        ])
        const server = `https://127.0.0.1:${securePort}`
        const ca = readFileSync(join(dir, 'ca.crt'))
        const cert = readFileSync(join(dir, 'admin.crt'))
        const key = readFileSync(join(dir, 'admin.key'))
        const deadline = Date.now() + (opts.readyTimeoutMs ?? 240_000)
        for (;;) {
            for (const p of [etcd, apiserver]) {
                if (p.exitCode !== null || p.signalCode !== null) throw new Error(`kube helper: ${p === etcd ? 'etcd' : 'kube-apiserver'} exited (${String(p.exitCode ?? p.signalCode)}) before /readyz was ok:\n${tail(logs.get(p) ?? '')}`)
            }
            if (await readyz(server, ca, cert, key)) break
            if (Date.now() > deadline) throw new Error(`kube helper: /readyz not ok within ${String(opts.readyTimeoutMs ?? 240_000)} ms:\n${tail(logs.get(apiserver) ?? '')}`)
            await new Promise((r) => setTimeout(r, 250))
        }

        const caData = ca.toString('base64')
        const admin = writeKubeconfig(join(dir, 'admin.kubeconfig'), server, caData, { 'client-certificate-data': b64file(pki, 'admin.crt'), 'client-key-data': b64file(pki, 'admin.key') })
        const kubectl = (args: readonly string[], o: { kubeconfig?: string; input?: string } = {}): Promise<Ran> =>
            run(tools.kubectl, args, { env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: o.kubeconfig ?? admin.path }, input: o.input })
        const must = async (args: readonly string[], input?: string): Promise<string> => {
            const r = await kubectl(args, { input })
            if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`)
            return r.stdout
        }
        let issued = 0
        const kubeconfigFor = async (who: Identity): Promise<Kubeconfig> => {
            const name = `id-${String(++issued)}`
            if ('user' in who) {
                const subject = [...(who.groups ?? []).map((g) => `/O=${subjectPart(g)}`), `/CN=${subjectPart(who.user)}`].join('')
                const { cert: c, key: k } = await issue(pki, name, subject, 'extendedKeyUsage=clientAuth\n')
                return writeKubeconfig(join(dir, `${name}.kubeconfig`), server, caData, { 'client-certificate-data': b64file(pki, c), 'client-key-data': b64file(pki, k) })
            }
            const exists = await kubectl(['get', 'serviceaccount', who.serviceAccount, '-n', who.namespace])
            if (exists.code !== 0) await must(['create', 'serviceaccount', who.serviceAccount, '-n', who.namespace])
            const token = (await must(['create', 'token', who.serviceAccount, '-n', who.namespace, '--duration=2h'])).trim()
            return writeKubeconfig(join(dir, `${name}.kubeconfig`), server, caData, { token })
        }
        const namespace = async (ns: string): Promise<void> => {
            await must(['create', 'namespace', ns])
            await must(['create', 'serviceaccount', 'default', '-n', ns])
        }
        const setPodStatus = async (ns: string, pod: string, ip = hostPodIP()): Promise<void> => {
            const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
            const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: ip, startTime: now, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] }
            await must(['patch', 'pod', pod, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })])
        }
        // A getter: a machine without a non-loopback address can still run the tests that proxy nothing.
        return { kubeconfig: admin.path, kubectlPath: tools.kubectl, server, get podIP() { return hostPodIP() }, kubeconfigFor, kubectl, namespace, setPodStatus, stop }
    } catch (err) {
        await stop()
        throw err
    }
}
