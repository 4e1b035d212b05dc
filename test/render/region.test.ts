/**
 * Regions (issue 18), property-tested over generated regional fleets: every
 * agent gets exactly its declared keys, where "declared" includes its region —
 * its region's variant under the canonical name, the global key only with
 * `fallback: global`, never another region's variant — and render, validate
 * (KF115) and the registry agree on who reads which stored name.
 */
import { GENERATION_ENTRY } from '../../src/render/generation.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { parse as parseYaml, stringify } from 'yaml'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateIdentity, open } from '../../src/age/index.js'
import { baseUrlName, indexCatalog, loadCatalog, variantName, type Catalog } from '../../src/catalog/index.js'
import { isKeyfleetError } from '../../src/errors.js'
import { parseDeployment, renderEnvironment, type RenderOutput } from '../../src/render/index.js'
import { registryMarkdown, registryText } from '../../src/render/registry-format.js'
import { openKeys } from '../../src/loader/index.js'
import { checkNames } from '../../src/validate/names.js'
import { repoRoot } from '../helpers/tools.js'

let catalog: Catalog
let host: { identity: string; recipient: string }
beforeAll(async () => {
    catalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))
    host = await generateIdentity()
})

const NAMES = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENAI_API_KEY_2', 'GEMINI_API_KEY']
const SERVICE: Record<string, string> = { ANTHROPIC_API_KEY: 'claude', OPENAI_API_KEY: 'openai', OPENAI_API_KEY_2: 'openai', GEMINI_API_KEY: 'gemini' }
const REGIONS = ['eu', 'us', 'ap-south-1']
const SEED = Number(process.env.KEYFLEET_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31))

interface GenAgent { target: 'kubernetes' | 'bundle'; region: number; keys: string[] }
interface Fleet {
    regions: string[]
    fallback: boolean
    /** Which stored names exist: every global name, and each (name, region) variant drawn. */
    variants: boolean[][]
    urls: boolean[]
    agents: GenAgent[]
}

const fleetArb: fc.Arbitrary<Fleet> = fc.record({
    regions: fc.subarray(REGIONS, { minLength: 1 }),
    fallback: fc.boolean(),
    variants: fc.array(fc.array(fc.boolean(), { minLength: REGIONS.length, maxLength: REGIONS.length }), { minLength: NAMES.length, maxLength: NAMES.length }),
    urls: fc.array(fc.boolean(), { minLength: REGIONS.length, maxLength: REGIONS.length }),
    agents: fc.array(fc.record({
        target: fc.constantFrom<GenAgent['target']>('kubernetes', 'kubernetes', 'bundle'),
        // -1: no region; otherwise an index into the fleet's regions (mod its length).
        region: fc.integer({ min: -1, max: 2 }),
        keys: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: NAMES.length }),
    }), { minLength: 1, maxLength: 6 }),
})

const regionOf = (fleet: Fleet, a: GenAgent): string | undefined => a.region < 0 ? undefined : fleet.regions[a.region % fleet.regions.length]

/** Distinct values: each stored name has its own, so a leak of another region's variant is visible. */
const valuesOf = (fleet: Fleet): Map<string, string> => {
    const values = new Map<string, string>()
    NAMES.forEach((name, i) => {
        values.set(name, `global-${name}`)
        REGIONS.forEach((region, j) => { if (fleet.variants[i]?.[j] === true) values.set(variantName(name, region), `${region}-${name}`) })
    })
    return values
}

const yamlOf = (fleet: Fleet): string => stringify({
    environment: 'dev',
    regions: Object.fromEntries(fleet.regions.map((r) => [r, fleet.urls[REGIONS.indexOf(r)] === true ? { base_urls: { openai: `https://api.openai.com/${r}` } } : {}])),
    ...(fleet.fallback ? { fallback: 'global' } : {}),
    agents: fleet.agents.map((a, i) => {
        const region = regionOf(fleet, a)
        return {
            name: `agent-${i}`, cloud: 'aws', target: a.target,
            ...(region === undefined ? {} : { region }),
            ...(a.target === 'kubernetes' ? { namespace: 'agents' } : { recipient: host.recipient }),
            keys: a.keys,
        }
    }),
})

/** What an agent must receive, by the rule; undefined when the fleet is invalid for it. */
const expected = (fleet: Fleet, a: GenAgent, values: Map<string, string>): Record<string, string> | undefined => {
    const region = regionOf(fleet, a)
    const out: Record<string, string> = {}
    for (const key of a.keys) {
        const variant = region === undefined ? undefined : values.get(variantName(key, region))
        const value = region === undefined ? values.get(key) : variant ?? (fleet.fallback ? values.get(key) : undefined)
        if (value === undefined) return undefined
        out[key] = value
    }
    if (region !== undefined && fleet.urls[REGIONS.indexOf(region)] === true && a.keys.some((k) => SERVICE[k] === 'openai')) {
        out[baseUrlName('OPENAI_API_KEY')] = `https://api.openai.com/${region}`
    }
    return out
}

const received = async (out: RenderOutput, a: GenAgent, i: number): Promise<Record<string, string>> => {
    const path = a.target === 'kubernetes' ? `agents/secrets/agent-${i}.yaml` : `bundles/agent-${i}.keys.age`
    const file = out.files.find((f) => f.path === path)
    if (!file) throw new Error(`no ${path}`)
    if (a.target === 'bundle') return (JSON.parse(Buffer.from(await open(file.content, [host.identity])).toString('utf8')) as { keys: Record<string, string> }).keys
    const secret = parseYaml(file.content as string) as { data: Record<string, string> }
    // The Secret's non-secret generation entry (issue 17) is not one of the agent's keys.
    return Object.fromEntries(Object.entries(secret.data).filter(([k]) => k !== GENERATION_ENTRY).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

describe('regional fleets', () => {
    it(`give each agent its region's variants under the canonical names, never another region's; render and validate agree (property, seed ${SEED})`, async () => {
        await fc.assert(fc.asyncProperty(fleetArb, async (fleet) => {
            const file = 'environments/dev/deployment.yaml'
            const parsed = parseDeployment(yamlOf(fleet), file, catalog)
            expect(parsed.findings.filter((f) => f.severity === 'error')).toEqual([])
            const deployment = parsed.deployment
            if (!deployment) throw new Error('no deployment')
            const values = valuesOf(fleet)
            const wants = fleet.agents.map((a) => expected(fleet, a, values))
            const valid = wants.every((w) => w !== undefined)
            // validate's KF115 fires exactly for the agents the rule leaves without a value.
            const findings = checkNames({
                env: 'dev', file: 'environments/dev/env.secrets', index: indexCatalog(catalog),
                names: [...values.keys()].map((name) => ({ name, line: 1 })),
                deploymentFile: file, fallback: deployment.fallback ?? 'none', unknownKeysReported: true,
                deploymentKeys: fleet.agents.flatMap((a, i) => a.keys.map((key) => ({ agent: `agent-${i}`, key, line: 1, ...(regionOf(fleet, a) === undefined ? {} : { region: regionOf(fleet, a) }) }))),
            }).filter((f) => f.severity === 'error')
            expect(findings.every((f) => f.code === 'KF115')).toBe(true)
            expect(new Set(findings.map((f) => /agent (agent-\d+)/.exec(f.message)?.[1]))).toEqual(new Set(fleet.agents.flatMap((a, i) => (wants[i] === undefined ? [`agent-${i}`] : []))))
            if (!valid) {
                const error: unknown = await renderEnvironment({ env: 'dev', values, deployment, catalog }).then(() => undefined, (e: unknown) => e)
                expect(isKeyfleetError(error) && error.code).toBe('RENDER_REGION_VARIANT_MISSING')
                for (const v of values.values()) expect((error as Error).message).not.toContain(v)
                return
            }
            const out = await renderEnvironment({ env: 'dev', values, deployment, catalog })
            for (const [i, a] of fleet.agents.entries()) {
                const got = await received(out, a, i)
                expect(got).toEqual(wants[i])
                // Least privilege: no value of another region's variant, whatever the fallback.
                const region = regionOf(fleet, a)
                const foreign = [...values].filter(([stored]) => REGIONS.some((r) => r !== region && stored.endsWith(`__${variantName('', r).slice(2)}`)))
                for (const [, v] of foreign) expect(Object.values(got)).not.toContain(v)
                // The registry names the region and the stored name the agent reads.
                const row = out.registry.agents.find((r) => r.name === `agent-${i}`)
                expect(row?.region).toBe(region)
                for (const key of a.keys) {
                    const stored = region !== undefined && values.has(variantName(key, region)) ? variantName(key, region) : key
                    expect(out.registry.keys.find((k) => k.name === stored)?.agents).toContain(`agent-${i}`)
                }
            }
        }), { numRuns: 60, seed: SEED })
    })
})

describe('the registry of a regional fleet', () => {
    it('names each agent\'s region and what each variant is read as', async () => {
        const doc = { environment: 'dev', regions: ['eu'], agents: [
            { name: 'bot-eu', cloud: 'aws', target: 'kubernetes', namespace: 'n', region: 'eu', keys: ['openai'] },
            { name: 'bot', cloud: 'aws', target: 'kubernetes', namespace: 'n', keys: ['openai'] },
        ] }
        const deployment = parseDeployment(stringify(doc), 'd.yaml', catalog).deployment
        if (!deployment) throw new Error('no deployment')
        const values = new Map([['OPENAI_API_KEY', 'global-v'], ['OPENAI_API_KEY__EU', 'eu-v']])
        const { registry } = await renderEnvironment({ env: 'dev', values, deployment, catalog })
        expect(registry.keys.filter((k) => k.service === 'openai').map((k) => [k.name, k.agents, k.region, k.deliveredAs])).toEqual([
            ['OPENAI_API_KEY', ['bot'], undefined, undefined],
            ['OPENAI_API_KEY__EU', ['bot-eu'], 'eu', 'OPENAI_API_KEY'],
        ])
        expect(registryText(registry)).toContain('namespace n, region eu')
        expect(registryText(registry)).toContain('OPENAI_API_KEY__EU (eu, as OPENAI_API_KEY)')
        expect(registryMarkdown(registry)).toContain('| `OPENAI_API_KEY__EU` (eu, as `OPENAI_API_KEY`) |')
    })
})

describe('a regional agent, end to end', () => {
    it('its loader serves the region\'s key and base URL under the canonical names, agent code unchanged', async () => {
        const doc = { environment: 'dev', regions: { eu: { base_urls: { openai: 'https://api.openai.com/eu/v1' } } }, agents: [
            { name: 'bot-eu', cloud: 'local', target: 'bundle', recipient: host.recipient, region: 'eu', keys: ['openai'] },
        ] }
        const deployment = parseDeployment(stringify(doc), 'd.yaml', catalog).deployment
        if (!deployment) throw new Error('no deployment')
        const values = new Map([['OPENAI_API_KEY', 'sk-proj-global-' + 'g'.repeat(30)], ['OPENAI_API_KEY__EU', 'sk-proj-eu-' + 'e'.repeat(30)]])
        const out = await renderEnvironment({ env: 'dev', values, deployment, catalog })
        const dir = mkdtempSync(join(tmpdir(), 'kf-region-e2e-'))
        try {
            const bundle = out.files.find((f) => f.path === 'bundles/bot-eu.keys.age')
            writeFileSync(join(dir, 'keys.age'), bundle?.content ?? '')
            const keys = await openKeys({ path: join(dir, 'keys.age'), identity: host.identity, env: {}, watch: false, persistent: false })
            expect(keys.get('openai')).toBe(values.get('OPENAI_API_KEY__EU'))
            expect(keys.get('OPENAI_BASE_URL')).toBe('https://api.openai.com/eu/v1')
            expect(keys.names()).toEqual(['OPENAI_API_KEY', 'OPENAI_BASE_URL'])
            await keys.close()
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })
})

describe('regions in deployment.yaml', () => {
    const base = { environment: 'dev', agents: [{ name: 'a', cloud: 'aws', target: 'kubernetes', namespace: 'n', keys: ['openai'], region: 'eu' }] }
    const codes = (doc: object): string[] => parseDeployment(stringify(doc), 'd.yaml', catalog).findings.map((f) => f.code)

    it('refuses an agent region the environment does not declare (KF318)', () => {
        expect(codes(base)).toEqual(['KF318'])
        expect(codes({ ...base, regions: ['us'] })).toEqual(['KF318'])
        expect(codes({ ...base, regions: ['eu'] })).toEqual([])
    })

    it('refuses bad region names, fallbacks and base URLs (KF319)', () => {
        expect(codes({ ...base, regions: ['eu', 'EU_west'] })).toEqual(['KF319'])
        expect(codes({ ...base, regions: ['eu'], fallback: 'nearest' })).toEqual(['KF319'])
        expect(codes({ ...base, regions: { eu: { base_urls: { openai: 'http://eu.example' } } } })).toEqual(['KF319'])
        expect(codes({ ...base, regions: { eu: { base_urls: { openai: 'https://u:p@eu.example' } } } })).toEqual(['KF319'])
        expect(codes({ ...base, regions: { eu: { base_urls: { nosuch: 'https://eu.example' } } } })).toEqual(['KF319'])
        expect(codes({ ...base, regions: { eu: { base_urls: { openai: 'https://eu.api.openai.com/v1' } } } })).toEqual([])
    })

    it('points a listed variant name at the region field (KF311 with a hint)', () => {
        const found = parseDeployment(stringify({ ...base, regions: ['eu'], agents: [{ ...base.agents[0], keys: ['OPENAI_API_KEY__EU'] }] }), 'd.yaml', catalog).findings
        expect(found.map((f) => f.code)).toEqual(['KF311'])
        expect(found[0]?.message).toContain('region: eu')
    })
})
