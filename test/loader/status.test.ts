/**
 * Issue 17, step 1: the agent knows what it serves. A real render's Secret is
 * written into a volume with the kubelet's AtomicWriter sequence (and a real
 * bundle sealed for a host), the loader reads it, and `keys.deployed`, the
 * `change` events and the status endpoints (a real HTTP server, fetched over
 * loopback) report the render's generation id — names and numbers, no values.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateIdentity } from '../../src/age/index.js'
import { formatHint, keyHint } from '../../src/catalog/hint.js'
import { builtinCatalog } from '../../src/catalog/builtin.js'
import { indexCatalog } from '../../src/catalog/resolve.js'
import { loadCatalog, type Catalog } from '../../src/catalog/index.js'
import { DEFAULT_STATUS_PORT, openKeys, type ChangeEvent, type StatusReport } from '../../src/loader/index.js'
import { DEFAULT_STATUS_PORT as RENDER_DEFAULT_STATUS_PORT, GENERATION_ENTRY, generationId, parseDeployment, renderEnvironment, type RenderOutput } from '../../src/render/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { repoRoot } from '../helpers/tools.js'
import { cleanupTemp, nextEvent, tempDir } from './helpers.js'
import { KubeletVolume, type Payload } from './kubelet.js'

let catalog: Catalog
let host: { identity: string; recipient: string }
beforeAll(async () => {
    catalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))
    host = await generateIdentity()
})
afterAll(cleanupTemp)

const render = async (values: Map<string, string>): Promise<RenderOutput> => {
    const doc = {
        environment: 'dev',
        agents: [
            { name: 'support-bot', cloud: 'aws', target: 'kubernetes', namespace: 'agents', keys: ['openai', 'OPENAI_API_KEY_2', 'claude'] },
            { name: 'laptop', cloud: 'local', target: 'bundle', recipient: host.recipient, keys: ['openai'] },
        ],
    }
    const parsed = parseDeployment(stringify(doc), 'environments/dev/deployment.yaml', catalog)
    if (!parsed.deployment) throw new Error(JSON.stringify(parsed.findings))
    return renderEnvironment({ env: 'dev', values, deployment: parsed.deployment, catalog })
}

/** The Secret of `agent` as the kubelet writes it into the volume: data keys → decoded contents. */
const secretPayload = (out: RenderOutput, agent: string): Payload => {
    const file = out.files.find((f) => f.path === `agents/secrets/${agent}.yaml`)
    const secret = parseYaml(String(file?.content)) as { data: Record<string, string> }
    return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

const valuesOf = (a: string, b: string, c: string): Map<string, string> =>
    new Map([['OPENAI_API_KEY', a], ['OPENAI_API_KEY_2', b], ['ANTHROPIC_API_KEY', c]])

const get = async (url: string): Promise<{ status: number; type: string; body: string }> => {
    const res = await fetch(url)
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

// The exposition format's grammar (Prometheus text format 0.0.4): comments, or `name{labels} value`.
const METRIC_LINE = /^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? -?[0-9.e+]+)$/

const samples = (text: string): Map<string, number> => {
    const out = new Map<string, number>()
    for (const line of text.trimEnd().split('\n')) {
        expect(line, line).toMatch(METRIC_LINE)
        if (line.startsWith('#')) continue
        const at = line.lastIndexOf(' ')
        out.set(line.slice(0, at), Number(line.slice(at + 1)))
    }
    return out
}

describe('keys.deployed and the status handler', () => {
    it('a kubelet-written Secret volume reports the render it came from, in deployed, change events and both status formats', async () => {
        const [a, b, c, a2] = [makeCanary(), makeCanary(), makeCanary('sk-ant-api03-CANARY'), makeCanary()]
        const one = await render(valuesOf(a, b, c))
        const vol = new KubeletVolume(join(tempDir('status', { tmpfs: true }), 'keys'))
        expect(Object.keys(secretPayload(one, 'support-bot'))).toContain(GENERATION_ENTRY)
        vol.write(secretPayload(one, 'support-bot'))
        const keys = await openKeys({ path: vol.dir, env: {}, catalog, persistent: false })
        const seen: string[] = []
        try {
            // The entry is not a key: never served, never named.
            expect(keys.names()).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENAI_API_KEY_2'])
            expect(keys.deployed).toMatchObject({ environment: 'dev', agent: 'support-bot', generation: one.generation['support-bot'], verified: true })
            const since = keys.deployed?.since as string
            expect(Number.isNaN(Date.parse(since))).toBe(false)

            const server = await keys.serveStatus({ port: 0 })
            const json = await get(`${server.url}/keyfleet/status`)
            expect(json.status).toBe(200)
            expect(json.type).toMatch(/^application\/json/)
            const report = JSON.parse(json.body) as StatusReport
            expect(report).toMatchObject({
                keyfleet: 'keyfleet-status/v1', localGeneration: 1, names: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENAI_API_KEY_2'],
                deployed: { environment: 'dev', agent: 'support-bot', generation: one.generation['support-bot'], since, verified: true },
                source: { kind: 'directory', healthy: true, problem: null },
            })
            const metrics = await get(`${server.url}/metrics`)
            expect(metrics.type).toBe('text/plain; version=0.0.4; charset=utf-8')
            const m = samples(metrics.body)
            expect(m.get(`keyfleet_generation_info{environment="dev",agent="support-bot",generation="${one.generation['support-bot']}"}`)).toBe(1)
            expect(m.get('keyfleet_source_healthy')).toBe(1)
            expect(m.get('keyfleet_last_change_timestamp_seconds')).toBeGreaterThan(1e9)
            expect((await get(`${server.url}/nothing`)).status).toBe(404)
            seen.push(json.body, metrics.body)

            // A rotation: the change event carries the new render's id, and the endpoint follows.
            const two = await render(valuesOf(a2, b, c))
            expect(two.generation['support-bot']).not.toBe(one.generation['support-bot'])
            const change = nextEvent(keys, 'change')
            vol.write(secretPayload(two, 'support-bot'))
            const event: ChangeEvent = await change
            expect(event.names).toEqual(['OPENAI_API_KEY'])
            expect(event.deployed).toMatchObject({ environment: 'dev', agent: 'support-bot', generation: two.generation['support-bot'], verified: true })
            expect(keys.deployed).toBe(event.deployed)
            const after = JSON.parse((await get(server.url)).body) as StatusReport
            expect(after.deployed?.generation).toBe(two.generation['support-bot'])
            expect(after.localGeneration).toBe(2)
            seen.push(JSON.stringify(event), JSON.stringify(after), (await get(`${server.url}/metrics`)).body)

            // A broken source (..data points to a directory that is gone): the last good keys and their render stay, the health gauge drops.
            const broken = nextEvent(keys, 'error')
            symlinkSync('..gone', join(vol.dir, '..data_tmp'))
            renameSync(join(vol.dir, '..data_tmp'), join(vol.dir, '..data'))
            expect((await broken).code).toBe('LOADER_SOURCE_UNREADABLE')
            const sick = JSON.parse((await get(server.url)).body) as StatusReport
            expect(sick.source).toMatchObject({ healthy: false, problem: 'LOADER_SOURCE_UNREADABLE' })
            expect(sick.deployed?.generation).toBe(two.generation['support-bot'])
            const sickMetrics = (await get(`${server.url}/metrics`)).body
            expect(samples(sickMetrics).get('keyfleet_source_healthy')).toBe(0)
            seen.push(sickMetrics, JSON.stringify(sick))

            // Usage (issue 18.3): per-member calls, cool-downs and the last remaining quota, by name only.
            const choice = keys.pick('openai')
            if (choice === undefined) throw new Error('no openai pool member')
            keys.observe(choice, { status: 429, headers: new Headers({ 'retry-after': '30', 'x-ratelimit-remaining-requests': '0' }) })
            const used = JSON.parse((await get(server.url)).body) as StatusReport
            const openai = used.stats?.services.find((svc) => svc.service === 'openai')
            expect(openai?.members.map((mem) => mem.name).sort()).toEqual(['OPENAI_API_KEY', 'OPENAI_API_KEY_2'])
            const cooled = openai?.members.find((mem) => mem.name === choice.name)
            expect(cooled?.calls).toBeGreaterThanOrEqual(1)
            expect(cooled?.coolingForMs).toBeGreaterThan(20_000)
            const usedMetrics = (await get(`${server.url}/metrics`)).body
            expect(samples(usedMetrics).get(`keyfleet_member_cooling_seconds{service="openai",member="${choice.name}"}`)).toBeGreaterThan(20)
            expect(samples(usedMetrics).get(`keyfleet_member_calls{service="openai",member="${choice.name}"}`)).toBeGreaterThanOrEqual(1)
            seen.push(JSON.stringify(used), usedMetrics)

            // Canary: nothing any endpoint or event said holds a value or a hint.
            const haystack = { status: seen.join('\n') }
            const index = indexCatalog(catalog)
            for (const [name, value] of [['OPENAI_API_KEY', a], ['OPENAI_API_KEY_2', b], ['ANTHROPIC_API_KEY', c], ['OPENAI_API_KEY', a2]] as const) {
                expect(findLeaks(value, haystack)).toEqual([])
                expect(seen.join('\n')).not.toContain(value.slice(-4))
                expect(seen.join('\n')).not.toContain(formatHint(keyHint(name, value, index)))
            }
        } finally {
            await keys.close()
        }
    })

    it('a bundle reports its payload\'s render; a plain directory gets a computed, unverified id', async () => {
        const [a, b, c] = [makeCanary(), makeCanary(), makeCanary('sk-ant-api03-CANARY')]
        const out = await render(valuesOf(a, b, c))
        const dir = tempDir('status-bundle')
        const bundle = out.files.find((f) => f.path === 'bundles/laptop.keys.age')
        writeFileSync(join(dir, 'laptop.keys.age'), bundle?.content ?? '')
        const keys = await openKeys({ path: join(dir, 'laptop.keys.age'), identity: host.identity, env: {}, catalog, persistent: false })
        try {
            expect(keys.deployed).toMatchObject({ environment: 'dev', agent: 'laptop', generation: out.generation.laptop, verified: true })
        } finally {
            await keys.close()
        }
        // Written by hand, not by keyfleet: no claim, but the id of the keys it serves.
        const plain = new KubeletVolume(join(dir, 'plain'))
        plain.write({ OPENAI_API_KEY: a })
        const other = await openKeys({ path: plain.dir, env: {}, catalog: builtinCatalog, persistent: false })
        try {
            expect(other.deployed).toMatchObject({ environment: undefined, agent: undefined, generation: generationId([['OPENAI_API_KEY', a]]), verified: false })
            expect(out.generation.laptop).toBe(other.deployed?.generation)
        } finally {
            await other.close()
        }
    })

    it('a claim that does not match the keys is not verified; a malformed one declares nothing', async () => {
        const a = makeCanary()
        const vol = new KubeletVolume(join(tempDir('status-claim'), 'keys'))
        vol.write({ OPENAI_API_KEY: a, [GENERATION_ENTRY]: JSON.stringify({ environment: 'dev', agent: 'bot', generation: '0123456789abcdef' }) })
        const keys = await openKeys({ path: vol.dir, env: {}, catalog: builtinCatalog, persistent: false })
        try {
            expect(keys.deployed).toMatchObject({ environment: 'dev', agent: 'bot', generation: generationId([['OPENAI_API_KEY', a]]), verified: false })
            const change = nextEvent(keys, 'change')
            vol.write({ OPENAI_API_KEY: `${a}x`, [GENERATION_ENTRY]: '{"environment":"dev\\n","agent":"b\\"ot"' })
            const event = await change
            expect(event.deployed).toMatchObject({ environment: undefined, agent: undefined, verified: false })
        } finally {
            await keys.close()
        }
    })

    it('statusHandler mounts in the agent\'s own server; an env-only store reports no render and an unhealthy source', async () => {
        const keys = await openKeys({ env: { OPENAI_API_KEY: makeCanary() }, persistent: false })
        const server = createServer((req, res) => {
            if (req.url?.startsWith('/internal/keyfleet')) keys.statusHandler()(req, res)
            else res.writeHead(418).end()
        })
        await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
        try {
            const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/keyfleet`
            const report = JSON.parse((await get(base)).body) as StatusReport
            expect(report).toMatchObject({ deployed: null, localGeneration: 0, names: ['OPENAI_API_KEY'], source: { kind: null, mode: 'none', healthy: false }, lastChange: null })
            const m = samples((await get(`${base}/metrics`)).body)
            expect([...m.keys()].some((k) => k.startsWith('keyfleet_generation_info'))).toBe(false)
            expect(m.get('keyfleet_source_healthy')).toBe(0)
            expect((await fetch(base, { method: 'POST' })).status).toBe(405)
        } finally {
            server.close()
            await keys.close()
        }
    })

    it('serveStatus servers close with the store', async () => {
        const keys = await openKeys({ env: {}, persistent: false })
        const server = await keys.serveStatus({ port: 0 })
        expect(server.host).toBe('127.0.0.1')
        // The loader's default port is the one rollout status reads when deployment.yaml gives none.
        expect(DEFAULT_STATUS_PORT).toBe(RENDER_DEFAULT_STATUS_PORT)
        expect((await get(server.url)).status).toBe(200)
        await keys.close()
        await expect(fetch(server.url)).rejects.toThrow()
        await expect(keys.serveStatus({ port: 0 })).rejects.toMatchObject({ code: 'LOADER_ABORTED' })
    })
})

describe('preferNewest', () => {
    it('serves the highest pool member, falls back to the older one while it cools down, and round robin stays the default', async () => {
        const [old, fresh] = [makeCanary(), makeCanary()]
        const vol = new KubeletVolume(join(tempDir('newest'), 'keys'))
        vol.write({ OPENAI_API_KEY: old, OPENAI_API_KEY_2: fresh })
        const keys = await openKeys({ path: vol.dir, env: {}, persistent: false, preferNewest: true })
        const plain = await openKeys({ path: vol.dir, env: {}, persistent: false })
        try {
            expect(Array.from({ length: 4 }, () => keys.get('openai'))).toEqual([fresh, fresh, fresh, fresh])
            expect(keys.reportFailure('OPENAI_API_KEY_2', { cooldownMs: 60_000 })).toBe(true)
            expect(keys.get('openai')).toBe(old)
            expect(Array.from({ length: 4 }, () => plain.get('openai'))).toEqual([old, fresh, old, fresh])
            // Step b of the rotation: the old member leaves; the pool of one serves the new key.
            const change = nextEvent(keys, 'change')
            vol.write({ OPENAI_API_KEY_2: fresh })
            await change
            expect(keys.get('openai')).toBe(fresh)
        } finally {
            await keys.close()
            await plain.close()
        }
    })
})
