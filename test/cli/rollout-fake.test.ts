/**
 * `keyfleet rollout status` against real loaders' status servers (real HTTP,
 * the volumes written in the kubelet's AtomicWriter sequence from a real
 * render) reached through a fake API server's pod-proxy endpoint, with the
 * real kubectl binary doing the requests. test/cli/rollout-kube.test.ts runs
 * the same against a real kube-apiserver.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RolloutReport } from '../../src/lifecycle/rollout.js'
import { openKeys, type KeyStore } from '../../src/loader/index.js'
import { openBundle } from '../../src/loader/decrypt.js'
import { formatPublicKey, generateSigningKey, signEnvelope } from '../../src/sign/index.js'
import { repoRoot } from '../helpers/tools.js'
import { findLeaks } from '../helpers/canary.js'
import { demoKey, keyfleet, makeDemoRepo, sopsDecrypt } from '../helpers/cli.js'
import { cleanupTemp, tempDir } from '../loader/helpers.js'
import { KubeletVolume, type Payload } from '../loader/kubelet.js'
import { fakeApiServer, fakeKubeconfig, kubectlPath, type Pod } from './rollout-helpers.js'

const secretPayload = (dir: string, ns: string, agent: string): Payload => {
    const secret = parseYaml(readFileSync(join(dir, ns, 'secrets', `${agent}.yaml`), 'utf8')) as { data: Record<string, string> }
    return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

let repo: string
let rendered: string
const stores: KeyStore[] = []
const servers: Server[] = []
afterAll(async () => {
    for (const s of stores) await s.close()
    for (const s of servers) s.close()
    cleanupTemp()
})

const agentWith = async (payload: Payload): Promise<{ vol: KubeletVolume; port: number }> => {
    const vol = new KubeletVolume(join(tempDir('rollout', { tmpfs: true }), 'keys'))
    vol.write(payload)
    const keys = await openKeys({ path: vol.dir, env: {}, persistent: false })
    stores.push(keys)
    const status = await keys.serveStatus({ port: 0 })
    return { vol, port: status.port }
}

describe('keyfleet rollout status (fake API server, real kubectl, real status servers)', () => {
    let support: { vol: KubeletVolume; port: number }
    let research: { vol: KubeletVolume; port: number }
    let laptopUrl: string
    let api: Awaited<ReturnType<typeof fakeApiServer>>
    let env: Record<string, string>
    const pods: Pod[] = []

    beforeAll(async () => {
        repo = makeDemoRepo()
        rendered = tempDir('rollout-render')
        const r = await keyfleet(['render', 'dev', '--out', rendered, '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
        expect(r.code, r.stderr).toBe(0)
        support = await agentWith(secretPayload(rendered, 'agents-dev', 'support-bot'))
        // research-agent's pod still has an older Secret: one value differs.
        const stale = { ...secretPayload(rendered, 'agents-dev', 'research-agent'), OPENAI_API_KEY: 'sk-proj-OLDOLDOLD' + 'o'.repeat(40) }
        research = await agentWith(stale)
        // The laptop reads its bundle; its status server is reached through status_url.
        const bundleDir = tempDir('rollout-bundle')
        writeFileSync(join(bundleDir, 'keys.age'), readFileSync(join(rendered, 'bundles', 'alice-laptop.keys.age')))
        const laptop = await openKeys({ path: join(bundleDir, 'keys.age'), identityFile: demoKey(repo, 'laptop-alice'), env: {}, persistent: false })
        stores.push(laptop)
        laptopUrl = `${(await laptop.serveStatus({ port: 0 })).url}/keyfleet/status`
        const file = join(repo, 'environments', 'dev', 'deployment.yaml')
        const doc = parseYaml(readFileSync(file, 'utf8')) as { agents: Record<string, unknown>[] }
        for (const a of doc.agents) {
            if (a.name === 'support-bot') a.status_port = support.port
            if (a.name === 'research-agent') a.status_port = research.port
            if (a.name === 'alice-laptop') a.status_url = laptopUrl
        }
        writeFileSync(file, stringify(doc))
        pods.push({ ns: 'agents-dev', name: 'support-bot-7d9f-abcde', app: 'support-bot', port: support.port })
        pods.push({ ns: 'agents-dev', name: 'research-agent-5c4b-fghij', app: 'research-agent', port: research.port })
        api = await fakeApiServer(pods)
        servers.push(api.server)
        const kubeconfig = fakeKubeconfig(tempDir('rollout-kc'), api.url)
        env = { KUBECONFIG: kubeconfig, KEYFLEET_KUBECTL: await kubectlPath() }
    }, 120_000)

    it('reports current, behind and unknown agents as a table, JSON and markdown with a mermaid chart', async () => {
        const r = await keyfleet(['rollout', 'status', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
        expect(r.code, r.stderr).toBe(1)
        const row = (agent: string): string => r.stdout.split('\n').find((l) => l.startsWith(`${agent} `)) ?? ''
        expect(row('support-bot')).toMatch(/^support-bot +kubernetes +current +[0-9a-f]{16} +[0-9a-f]{16} ×1 pod/)
        expect(row('research-agent')).toMatch(/ behind /)
        expect(row('batch-summarizer')).toMatch(/ unknown .*no Running pods/)
        expect(row('alice-laptop')).toMatch(/^alice-laptop +bundle +current /)
        expect(r.stdout).toContain('dev: 2/4 agents serve the last render, 1 behind, 1 unknown')
        // Every request went through the API server's pod proxy; no pod port was dialled directly by keyfleet.
        expect(api.requests).toContain(`/api/v1/namespaces/agents-dev/pods/support-bot-7d9f-abcde:${support.port}/proxy/keyfleet/status`)

        const j = await keyfleet(['rollout', 'status', 'dev', '--json', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
        const report = JSON.parse(j.stdout) as RolloutReport
        expect(report.keyfleet).toBe('rollout/v1')
        expect(report.counts).toEqual({ current: 2, behind: 1, unknown: 1 })
        const research = report.agents.find((a) => a.agent === 'research-agent')
        expect(research?.observed[0]?.generation).not.toBe(research?.expected)

        const md = await keyfleet(['rollout', 'status', 'dev', '--markdown', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
        expect(md.stdout).toContain('| agent | target | state | expected | serving | note |')
        expect(md.stdout).toContain('```mermaid\npie showData title Rollout of dev\n    "current" : 2\n    "behind" : 1\n    "unknown" : 1\n```')
    }, 120_000)

    it('--wait returns 0 once the last pod serves the render, and times out with 1 while one is behind', async () => {
        const batch = await agentWith(secretPayload(rendered, 'batch-dev', 'batch-summarizer'))
        const file = join(repo, 'environments', 'dev', 'deployment.yaml')
        writeFileSync(file, readFileSync(file, 'utf8').replace(/(name: batch-summarizer\n)/, `$1    status_port: ${batch.port}\n`))
        pods.push({ ns: 'batch-dev', name: 'batch-summarizer-1-xyz', app: 'batch-summarizer', port: batch.port })
        const timedOut = await keyfleet(['rollout', 'status', 'dev', '--wait', '--timeout', '1s', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
        expect(timedOut.code).toBe(1)
        expect(timedOut.stdout).toContain('1 behind, 0 unknown')
        const waiting = keyfleet(['rollout', 'status', 'dev', '--wait', '--timeout', '2m', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
        // The kubelet swaps research-agent's volume to the rendered Secret; its loader picks it up.
        research.vol.write(secretPayload(rendered, 'agents-dev', 'research-agent'))
        const done = await waiting
        expect(done.code, done.stdout + done.stderr).toBe(0)
        expect(done.stdout).toContain('dev: all 4 agents serve the last render')
    }, 180_000)

    it('prints names and generation ids only: no value of the environment in any output', async () => {
        const values = [...sopsDecrypt(repo, 'dev', demoKey(repo, 'dev')).out.matchAll(/^[A-Z0-9_]+=(.*)$/gm)].map((m) => m[1] as string)
        expect(values.length).toBeGreaterThan(1)
        const runs = await Promise.all([[], ['--json'], ['--markdown']].map((extra) => keyfleet(['rollout', 'status', 'dev', '--identity-file', demoKey(repo, 'dev'), ...extra], { cwd: repo, env })))
        for (const value of values) for (const r of runs) expect(findLeaks(value, { stdout: r.stdout, stderr: r.stderr })).toEqual([])
    }, 120_000)

    it('a host running agent sync --status-port is current through its status_url', async () => {
        // Sign the render's own sealed bundle for alice-laptop, as publish does, and serve it over loopback HTTP.
        const sealed = readFileSync(join(rendered, 'bundles', 'alice-laptop.keys.age'))
        const { info } = await openBundle(sealed, { identityFile: demoKey(repo, 'laptop-alice') }, 'alice-laptop.keys.age')
        const signing = generateSigningKey('keyfleet-signing:dev')
        const envelope = signEnvelope({ environment: 'dev', agent: 'alice-laptop', generation: info.generation as string, issuedAt: Date.now() }, sealed.toString('utf8'), signing)
        const channel = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(envelope) })
        await new Promise<void>((r) => channel.listen(0, '127.0.0.1', r))
        servers.push(channel)
        const dir = tempDir('rollout-sync')
        writeFileSync(join(dir, 'signing.pub'), formatPublicKey(signing.publicKey))
        const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'agent', 'sync', `http://127.0.0.1:${(channel.address() as AddressInfo).port}/alice-laptop.bundle`,
            '--out', join(dir, 'keys'), '--poll', '0.2', '--signing-key-file', join(dir, 'signing.pub'), '--identity-file', demoKey(repo, 'laptop-alice'),
            '--cache-dir', join(dir, 'cache'), '--status-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, HOME: dir } })
        let err = ''
        child.stderr.on('data', (c: Buffer) => { err += c.toString('utf8') })
        try {
            const end = Date.now() + 60_000
            while (!/now holds generation/.test(err) || !/status at (\S+)/.test(err)) {
                if (Date.now() > end || child.exitCode !== null) throw new Error(`agent sync did not start: ${err}`)
                await new Promise((r) => setTimeout(r, 25))
            }
            const statusUrl = (/status at (\S+)/.exec(err) as RegExpExecArray)[1] as string
            const file = join(repo, 'environments', 'dev', 'deployment.yaml')
            writeFileSync(file, readFileSync(file, 'utf8').replace(laptopUrl, statusUrl))
            const r = await keyfleet(['rollout', 'status', 'dev', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
            expect(r.stdout.split('\n').find((l) => l.startsWith('alice-laptop '))).toMatch(/^alice-laptop +bundle +current /)
            const values = [...sopsDecrypt(repo, 'dev', demoKey(repo, 'dev')).out.matchAll(/^[A-Z0-9_]+=(.*)$/gm)].map((m) => m[1] as string)
            for (const value of values) expect(findLeaks(value, { stderr: err, status: await (await fetch(statusUrl)).text() })).toEqual([])
        } finally {
            child.kill('SIGTERM')
        }
    }, 120_000)

    it('refuses bad usage before reading anything', async () => {
        const r = await keyfleet(['rollout', 'status', 'dev', '--wait', '--timeout', 'soon'], { cwd: repo, env })
        expect(r.code).toBe(2)
        expect(r.stderr).toContain('--timeout must be a duration')
    })
})
