/**
 * `keyfleet rotate-key` end to end: a demo repository, a fleet of real loaders
 * (kubelet-written volumes, a bundle) whose status servers are reached through
 * a fake API server's pod proxy by the real kubectl, real sops for every
 * write (checked with plain `sops decrypt`), and a loopback fake of OpenAI's
 * project API keys admin API. Each step is also interrupted between its two
 * writes (the state a kill leaves) and the next run must continue from it.
 */
import type { Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openKeys, type KeyStore } from '../../src/loader/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { demoKey, git, keyfleet, makeDemoRepo, sopsDecrypt, type CliResult } from '../helpers/cli.js'
import { cleanupTemp, tempDir } from '../loader/helpers.js'
import { KubeletVolume, type Payload } from '../loader/kubelet.js'
import { fakeApiServer, fakeKubeconfig, kubectlPath, type Pod } from './rollout-helpers.js'

const K8S = [['support-bot', 'agents-dev'], ['research-agent', 'agents-dev'], ['batch-summarizer', 'batch-dev']] as const

let repo: string
let env: Record<string, string>
const stores: KeyStore[] = []
const servers: Server[] = []
const volumes = new Map<string, KubeletVolume>()
let bundleFile: string
const outputs: CliResult[] = []
const NEW = makeCanary()

const admin = { key: `sk-admin-${'a'.repeat(40)}`, keys: [] as { id: string; redacted_value: string; deleted: boolean }[], calls: [] as string[], url: '' }

const run = async (...args: string[]): Promise<CliResult> => {
    const r = await keyfleet(['rotate-key', 'dev', 'OPENAI_API_KEY', '--identity-file', demoKey(repo, 'dev'), ...args], { cwd: repo, env, stdin: args.includes('--new') ? `${NEW}\n` : undefined })
    outputs.push(r)
    return r
}
const names = (): string[] => [...sopsDecrypt(repo, 'dev', demoKey(repo, 'dev')).out.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1] as string).sort()
const agentKeys = (): Record<string, string[]> => Object.fromEntries((parseYaml(readFileSync(join(repo, 'environments/dev/deployment.yaml'), 'utf8')) as { agents: { name: string; keys: string[] }[] }).agents.map((a) => [a.name, a.keys]))
const commit = (message: string): void => { git(repo, 'add', '-A'); git(repo, 'commit', '-q', '-m', message) }

/** The deploy: render the working tree and deliver every agent's Secret (kubelet sequence) and bundle. */
const deploy = async (): Promise<void> => {
    const out = tempDir('rotate-render')
    const r = await keyfleet(['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
    expect(r.code, r.stderr).toBe(0)
    for (const [agent, ns] of K8S) {
        const secret = parseYaml(readFileSync(join(out, ns, 'secrets', `${agent}.yaml`), 'utf8')) as { data: Record<string, string> }
        const payload: Payload = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
        volumes.get(agent)?.write(payload)
    }
    writeFileSync(`${bundleFile}.tmp`, readFileSync(join(out, 'bundles', 'alice-laptop.keys.age')))
    renameSync(`${bundleFile}.tmp`, bundleFile)
}

beforeAll(async () => {
    repo = makeDemoRepo()
    const pods: Pod[] = []
    const ports = new Map<string, number>()
    for (const [agent, ns] of K8S) {
        const vol = new KubeletVolume(join(tempDir('rotate', { tmpfs: true }), 'keys'))
        vol.write({})
        volumes.set(agent, vol)
        const keys = await openKeys({ path: vol.dir, env: {}, persistent: false })
        stores.push(keys)
        const port = (await keys.serveStatus({ port: 0 })).port
        ports.set(agent, port)
        pods.push({ ns, name: `${agent}-0`, app: agent, port })
    }
    bundleFile = join(tempDir('rotate-bundle'), 'keys.age')
    const laptop = await openKeys({ path: bundleFile, identityFile: demoKey(repo, 'laptop-alice'), env: {}, persistent: false, settleMs: 0 })
    stores.push(laptop)
    const laptopUrl = `${(await laptop.serveStatus({ port: 0 })).url}/keyfleet/status`
    const file = join(repo, 'environments', 'dev', 'deployment.yaml')
    let text = readFileSync(file, 'utf8')
    for (const [agent] of K8S) text = text.replace(`name: ${agent}\n`, `name: ${agent}\n    status_port: ${ports.get(agent) ?? 0}\n`)
    text = text.replace('name: alice-laptop\n', `name: alice-laptop\n    status_url: ${laptopUrl}\n`)
    writeFileSync(file, text)
    commit('status endpoints')
    const api = await fakeApiServer(pods)
    servers.push(api.server)
    env = { KUBECONFIG: fakeKubeconfig(tempDir('rotate-kc'), api.url), KEYFLEET_KUBECTL: await kubectlPath() }
    // OpenAI's project API keys admin API: lists keys by redacted value, deletes by id.
    const old = /^OPENAI_API_KEY=(.*)$/m.exec(sopsDecrypt(repo, 'dev', demoKey(repo, 'dev')).out)?.[1] as string
    admin.keys.push({ id: 'key_old', redacted_value: `${old.slice(0, 8)}...${old.slice(-4)}`, deleted: false }, { id: 'key_other', redacted_value: 'sk-proj-zzzz...zzzz', deleted: false })
    const fake = createServer((req, res) => {
        admin.calls.push(`${req.method ?? ''} ${req.url ?? ''}`)
        if (req.headers.authorization !== `Bearer ${admin.key}`) { res.writeHead(401).end('{}'); return }
        const base = '/v1/organization/projects/proj_test/api_keys'
        if (req.method === 'GET' && req.url?.startsWith(`${base}?`)) {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: admin.keys.filter((k) => !k.deleted).map((k) => ({ object: 'organization.project.api_key', id: k.id, redacted_value: k.redacted_value })), has_more: false }))
            return
        }
        const key = admin.keys.find((k) => req.method === 'DELETE' && req.url === `${base}/${k.id}` && !k.deleted)
        if (key) { key.deleted = true; res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'organization.project.api_key.deleted', id: key.id, deleted: true })); return }
        res.writeHead(404).end('{}')
    })
    await new Promise<void>((resolve) => { fake.listen(0, '127.0.0.1', resolve) })
    servers.push(fake)
    admin.url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
    await deploy()
}, 180_000)

afterAll(async () => {
    for (const s of stores) await s.close()
    for (const s of servers) s.close()
    cleanupTemp()
})

describe('keyfleet rotate-key', () => {
    it('runs a, b and c, waits for each deploy, continues after an interruption between the writes of each step, and revokes once', async () => {
        const idle = await run()
        expect(idle.code, idle.stderr).toBe(0)
        expect(idle.stdout).toContain('no rotation of OPENAI_API_KEY in dev is in progress')

        // a: the new value as the next pool member, read by every agent that reads the key.
        const a = await run('--new')
        expect(a.code, a.stderr).toBe(0)
        expect(names()).toContain('OPENAI_API_KEY_2')
        expect(sopsDecrypt(repo, 'dev', demoKey(repo, 'dev')).out).toContain(`OPENAI_API_KEY_2=${NEW}\n`)
        const afterA = agentKeys()
        expect(afterA['support-bot']).toEqual(['claude', 'openai', 'OPENAI_API_KEY_2'])
        expect(afterA['batch-summarizer']).toEqual(['claude'])
        // Interrupted between its two writes (env.secrets done, deployment.yaml not): the next run finishes a.
        git(repo, 'checkout', '--', 'environments/dev/deployment.yaml')
        const resumedA = await run()
        expect(resumedA.code, resumedA.stderr).toBe(0)
        expect(resumedA.stdout).toContain('OPENAI_API_KEY_2 added to the keys of support-bot, research-agent, alice-laptop')
        expect(agentKeys()).toEqual(afterA)
        expect((await run('--new')).code).toBe(2)
        commit('rotate a')

        // Not deployed yet: b waits, nothing changes.
        const early = await run()
        expect(early.code).toBe(1)
        expect(early.stdout).toMatch(/support-bot +kubernetes +behind/)
        expect(names()).toContain('OPENAI_API_KEY')

        await deploy()
        const b = await run('--wait', '--timeout', '2m')
        expect(b.code, b.stdout + b.stderr).toBe(0)
        expect(b.stdout).toContain('step b: every agent serves OPENAI_API_KEY_2; removed OPENAI_API_KEY')
        const afterB = agentKeys()
        expect(afterB['support-bot']).toEqual(['claude', 'OPENAI_API_KEY_2'])
        expect(names()).not.toContain('OPENAI_API_KEY')
        // Interrupted between its writes (deployment.yaml done, env.secrets not): the next run finishes b.
        git(repo, 'checkout', '--', 'environments/dev/env.secrets')
        expect(names()).toContain('OPENAI_API_KEY')
        const resumedB = await run()
        expect(resumedB.code, resumedB.stderr).toBe(0)
        expect(names()).not.toContain('OPENAI_API_KEY')
        expect(agentKeys()).toEqual(afterB)

        // c, before the removal is deployed: no revocation, and the admin API is not called.
        const notYet = await run('--admin-key-file', join(repo, 'admin.key'))
        expect(notYet.code).toBe(1)
        expect(notYet.stderr).toContain('do NOT revoke yet')
        expect(admin.calls).toEqual([])
        commit('rotate b')
        await deploy()
        writeFileSync(join(repo, '..', 'admin.key'), `${admin.key}\n`, { mode: 0o600 })
        const c = await run('--wait', '--timeout', '2m', '--admin-key-file', join(repo, '..', 'admin.key'), '--openai-project', 'proj_test', '--admin-base-url', admin.url)
        expect(c.code, c.stdout + c.stderr).toBe(0)
        expect(c.stdout).toContain('step c: no agent uses the old OPENAI_API_KEY any more')
        expect(c.stdout).toContain('https://platform.openai.com/api-keys')
        expect(c.stdout).toContain('revoked OPENAI_API_KEY at openai (key id key_old)')
        expect(admin.keys.map((k) => [k.id, k.deleted])).toEqual([['key_old', true], ['key_other', false]])
        // Idempotent: the next run finds it gone and changes nothing.
        const again = await run('--admin-key-file', join(repo, '..', 'admin.key'), '--openai-project', 'proj_test', '--admin-base-url', admin.url)
        expect(again.stdout).toContain('already revoked')
        expect(admin.calls.filter((c) => c.startsWith('DELETE'))).toHaveLength(1)

        for (const r of outputs) expect(findLeaks(NEW, { stdout: r.stdout, stderr: r.stderr })).toEqual([])
        expect(findLeaks(admin.key, { all: outputs.map((r) => r.stdout + r.stderr).join('\n') })).toEqual([])
    }, 600_000)
})

