/**
 * Issue 18: pool weights from deployment.yaml, delivered by render (the Secret's
 * `.keyfleet-generation` entry, the bundle payload) and applied by the loader with precedence
 * the option first, then deployment.yaml, then the catalog. The Secret and the bundle are made by the real render, and the
 * volume laid out the way the kubelet projects a Secret (one file per data key).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateIdentity } from '../../src/age/index.js'
import { loadCatalog, parseCatalog, type Catalog } from '../../src/catalog/index.js'
import { openKeys, type KeyStore, type OpenKeysOptions } from '../../src/loader/index.js'
import { parseDeployment, renderEnvironment, type RenderOutput } from '../../src/render/index.js'
import { repoRoot } from '../helpers/tools.js'
import { cleanupTemp, tempDir, turn } from './helpers.js'

let catalog: Catalog
let host: { identity: string; recipient: string }
beforeAll(async () => {
    catalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))
    host = await generateIdentity()
})
const stores: KeyStore[] = []
afterEach(async () => { await Promise.all(stores.splice(0).map((s) => s.close())) })
afterAll(cleanupTemp)

const VALUES = new Map([['OPENAI_API_KEY', `sk-proj-${'P'.repeat(40)}`], ['OPENAI_API_KEY_2', `sk-proj-${'Q'.repeat(40)}`]])

const render = async (weights: string, target = 'target: kubernetes\n    namespace: agents-dev'): Promise<RenderOutput> => {
    const text = `environment: dev\nagents:\n  - name: bot\n    cloud: aws\n    ${target}\n    keys: [openai, OPENAI_API_KEY_2]\n${weights === '' ? '' : `    weights: ${weights}\n`}`
    const { deployment, findings } = parseDeployment(text, 'environments/dev/deployment.yaml', catalog)
    if (!deployment) throw new Error(JSON.stringify(findings))
    return renderEnvironment({ env: 'dev', values: VALUES, deployment, catalog })
}

/** The Secret's data, written one file per key (what the kubelet's projection leaves in the payload dir). */
const mount = (out: RenderOutput, dir: string): void => {
    const file = out.files.find((f) => f.path === 'agents-dev/secrets/bot.yaml')
    const secret = parseYaml(file?.content as string) as { data: Record<string, string> }
    mkdirSync(dir, { recursive: true })
    for (const [k, v] of Object.entries(secret.data)) writeFileSync(join(dir, k), Buffer.from(v, 'base64'))
}

const open = async (options: OpenKeysOptions): Promise<KeyStore> => {
    const store = await openKeys({ env: {}, persistent: false, ...options })
    stores.push(store)
    return store
}

const memberWeights = (store: KeyStore): [string, number, string][] =>
    (store.stats().services.find((s) => s.service === 'openai')?.members ?? []).map((m) => [m.name, m.weight, m.weightFrom])

// mulberry32: a small seeded generator; the seed is printed with any failure.
const rng = (seed: number): (() => number) => () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe('weights delivered by render', () => {
    it('a mounted Secret\'s weights steer the pool; deployed is verified and carries them', async () => {
        const dir = tempDir('weights')
        mount(await render('{ OPENAI_API_KEY_2: 3 }'), dir)
        const store = await open({ path: dir })
        expect(store.deployed).toMatchObject({ environment: 'dev', agent: 'bot', verified: true, weights: { OPENAI_API_KEY_2: 3 } })
        expect(memberWeights(store)).toEqual([['OPENAI_API_KEY', 1, 'default'], ['OPENAI_API_KEY_2', 3, 'deployment']])
        const seed = Number(process.env.KEYFLEET_TEST_SEED ?? Date.now() % 2 ** 31)
        const n = 400 + Math.floor(rng(seed)() * 4000)
        let second = 0
        for (let i = 0; i < n; i++) if (store.pick('openai')?.name === 'OPENAI_API_KEY_2') second++
        // Smooth weighted round robin: within one pick of three quarters over any run.
        expect(Math.abs(second - n * 0.75), `seed ${seed}: ${second} of ${n} picks`).toBeLessThanOrEqual(1)
    })

    it('without weights the id and the pool are as before (verified, equal shares)', async () => {
        const dir = tempDir('weights')
        mount(await render(''), dir)
        const store = await open({ path: dir })
        expect(store.deployed?.verified).toBe(true)
        expect(store.deployed?.weights).toBeUndefined()
        const names = Array.from({ length: 4 }, () => store.pick('openai')?.name)
        expect(names.filter((x) => x === 'OPENAI_API_KEY_2')).toHaveLength(2)
    })

    it('precedence: the selection option over deployment.yaml over the catalog', async () => {
        const dir = tempDir('weights')
        mount(await render('{ OPENAI_API_KEY_2: 3 }'), dir)
        const weighted = parseCatalog(`version: 1
environments: [dev]
providers:
  openai:
    env: OPENAI_API_KEY
    probe: { base_url: https://api.openai.com, path: /v1/models, auth: bearer }
    weights: { OPENAI_API_KEY: 5, OPENAI_API_KEY_2: 9 }
`).catalog as Catalog
        const store = await open({ path: dir, catalog: weighted, selection: { weights: { OPENAI_API_KEY_2: 2 } } })
        expect(memberWeights(store)).toEqual([['OPENAI_API_KEY', 5, 'catalog'], ['OPENAI_API_KEY_2', 2, 'option']])
        const plain = await open({ path: dir, catalog: weighted })
        expect(memberWeights(plain)).toEqual([['OPENAI_API_KEY', 5, 'catalog'], ['OPENAI_API_KEY_2', 3, 'deployment']])
    })

    it('a change of weights alone reaches the running pool (same keys, new generation id)', async () => {
        const dir = tempDir('weights')
        mount(await render('{ OPENAI_API_KEY_2: 3 }'), dir)
        const store = await open({ path: dir })
        const before = store.deployed?.generation
        mount(await render('{ OPENAI_API_KEY: 4 }'), dir)
        // Waits for the watch to deliver the new entry (a bounded wait, not a timing assertion).
        for (let i = 0; i < 2000 && memberWeights(store)[0]?.[1] !== 4; i++) { await turn(); await new Promise((r) => setTimeout(r, 5)) }
        expect(memberWeights(store)).toEqual([['OPENAI_API_KEY', 4, 'deployment'], ['OPENAI_API_KEY_2', 1, 'default']])
        expect(store.deployed).toMatchObject({ verified: true, weights: { OPENAI_API_KEY: 4 } })
        expect(store.deployed?.generation).not.toBe(before)
        expect(store.generation).toBe(1)
        const picks = Array.from({ length: 50 }, () => store.pick('openai')?.name)
        expect(picks.filter((x) => x === 'OPENAI_API_KEY')).toHaveLength(40)
    })

    it('a bundle\'s weights apply too', async () => {
        const out = await render('{ OPENAI_API_KEY: 2 }', `target: bundle\n    recipient: ${host.recipient}`)
        const file = join(tempDir('weights'), 'bot.keys.age')
        writeFileSync(file, out.files.find((f) => f.path === 'bundles/bot.keys.age')?.content as string)
        const store = await open({ path: file, identity: host.identity })
        expect(store.deployed).toMatchObject({ verified: true, generation: out.generation.bot, weights: { OPENAI_API_KEY: 2 } })
        expect(memberWeights(store)).toEqual([['OPENAI_API_KEY', 2, 'deployment'], ['OPENAI_API_KEY_2', 1, 'default']])
    })

    it('malformed weights declare nothing (the keys are served, unverified); the status never holds a value', async () => {
        const dir = tempDir('weights')
        mount(await render('{ OPENAI_API_KEY_2: 3 }'), dir)
        const entry = JSON.parse(readFileSync(join(dir, '.keyfleet-generation'), 'utf8')) as Record<string, unknown>
        writeFileSync(join(dir, '.keyfleet-generation'), `${JSON.stringify({ ...entry, weights: { OPENAI_API_KEY_2: -3 } })}\n`)
        const store = await open({ path: dir })
        expect(store.get('OPENAI_API_KEY_2')).toBe(VALUES.get('OPENAI_API_KEY_2'))
        expect(store.deployed).toMatchObject({ verified: false })
        expect(memberWeights(store).map(([, w]) => w)).toEqual([1, 1])
        const server = await store.serveStatus({ port: 0 })
        const text = `${await (await fetch(`${server.url}/keyfleet/status`)).text()}${await (await fetch(`${server.url}/metrics`)).text()}`
        expect(text).toContain('keyfleet_member_weight{service="openai",member="OPENAI_API_KEY_2"} 1')
        for (const value of VALUES.values()) expect(text).not.toContain(value)
    })
})
