/**
 * Issue 18: per-agent pool weights in deployment.yaml (`weights:`), validated (KF320) and delivered
 * by render as non-secret config: in the Secret's `.keyfleet-generation` entry and in the bundle
 * payload, and folded into the generation id so a change of weights alone is a new generation.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateIdentity, open } from '../../src/age/index.js'
import { loadCatalog, parseCatalog, type Catalog } from '../../src/catalog/index.js'
import { declaredWeights } from '../../src/loader/deployed.js'
import { generationInputs } from '../../src/render/generation.js'
import { generationId, parseDeployment, renderEnvironment, type Deployment, type RenderOutput } from '../../src/render/index.js'
import { repoRoot } from '../helpers/tools.js'

let catalog: Catalog
let host: { identity: string; recipient: string }
beforeAll(async () => {
    catalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))
    host = await generateIdentity()
})

const VALUES = new Map([
    ['OPENAI_API_KEY', `sk-proj-${'W'.repeat(40)}`],
    ['OPENAI_API_KEY_2', `sk-proj-${'X'.repeat(40)}`],
    ['ANTHROPIC_API_KEY', `sk-ant-api03-${'Y'.repeat(40)}`],
])

const yamlOf = (weights: string, keys = '[openai, OPENAI_API_KEY_2, claude]', target = 'target: kubernetes\n    namespace: agents-dev'): string => `environment: dev
agents:
  - name: bot
    cloud: aws
    ${target}
    keys: ${keys}
${weights === '' ? '' : `    weights: ${weights}\n`}`

const parse = (text: string) => parseDeployment(text, 'environments/dev/deployment.yaml', catalog)
const messages = (text: string): string[] => parse(text).findings.filter((f) => f.code === 'KF320').map((f) => f.message)
const fileText = (out: RenderOutput, path: string): string => {
    const f = out.files.find((x) => x.path === path)
    if (!f) throw new Error(`no ${path}`)
    return typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8')
}
const generationEntryOf = (out: RenderOutput): Record<string, unknown> => {
    const secret = parseYaml(fileText(out, 'agents-dev/secrets/bot.yaml')) as { data: Record<string, string> }
    return JSON.parse(Buffer.from(secret.data['.keyfleet-generation'] ?? '', 'base64').toString('utf8')) as Record<string, unknown>
}

describe('deployment.yaml weights', () => {
    it('resolves members to canonical names and keeps positive numbers', () => {
        const { deployment, findings } = parse(yamlOf('{ OPENAI_API_KEY_2: 3, OPENAI_API_KEY: 1.5 }'))
        expect(findings).toEqual([])
        expect(deployment?.agents[0]?.weights).toEqual({ OPENAI_API_KEY_2: 3, OPENAI_API_KEY: 1.5 })
        expect(parse(yamlOf('')).deployment?.agents[0]?.weights).toBeUndefined()
    })

    it('refuses (KF320) unknown members, services, members the agent does not read, and non-positive numbers', () => {
        expect(messages(yamlOf('{ NOPE_KEY: 2 }'))).toEqual([expect.stringContaining('"NOPE_KEY", which is not a key name in the catalog')])
        expect(messages(yamlOf('{ openai: 2 }'))).toEqual([expect.stringContaining('not a service')])
        expect(messages(yamlOf('{ OPENAI_API_KEY_3: 2 }'))).toEqual([expect.stringContaining('OPENAI_API_KEY_3, which the agent does not read')])
        for (const bad of ['0', '-1', '.inf', '"3"', 'null']) {
            expect(messages(yamlOf(`{ OPENAI_API_KEY_2: ${bad} }`))).toEqual([expect.stringContaining('must be a positive number')])
        }
        expect(messages(yamlOf('[3]'))).toEqual([expect.stringContaining('must map pool members')])
        expect(parse(yamlOf('{ OPENAI_API_KEY_2: 0 }')).deployment).toBeUndefined()
    })

    it('refuses (KF320) a member name the loader cannot take weights for (over 128 characters), as the loader would ignore the map', () => {
        const long = `L${'X'.repeat(130)}_T`
        const wide = parseCatalog(`${readFileSync(join(repoRoot, 'environments', 'keyfleet.yaml'), 'utf8')}\n  ${long}:\n    service: longsvc\n    title: Long\n`).catalog as Catalog
        const text = yamlOf(`{ ${long}_2: 2 }`, `[${long}, ${long}_2]`)
        const kf320 = parseDeployment(text, 'environments/dev/deployment.yaml', wide).findings.filter((f) => f.code === 'KF320')
        expect(kf320.map((f) => f.message)).toEqual([expect.stringContaining('longer than 128 characters')])
        // The loader's rule, from the same constant: such a map is not delivered at all.
        expect(declaredWeights({ [`${long}_2`]: 2 })).toBeUndefined()
        expect(declaredWeights({ OPENAI_API_KEY_2: 2 })).toEqual({ OPENAI_API_KEY_2: 2 })
    })
})

describe('render delivers weights', () => {
    it('in the Secret\'s .keyfleet-generation entry, folded into the generation id; no value in it', async () => {
        const weighted = await renderEnvironment({ env: 'dev', values: VALUES, deployment: parse(yamlOf('{ OPENAI_API_KEY_2: 3 }')).deployment as Deployment, catalog })
        const plain = await renderEnvironment({ env: 'dev', values: VALUES, deployment: parse(yamlOf('')).deployment as Deployment, catalog })
        const entries = [...VALUES].sort()
        expect(plain.generation.bot).toBe(generationId(entries))
        expect(generationEntryOf(plain)).toEqual({ environment: 'dev', agent: 'bot', generation: plain.generation.bot })
        expect(weighted.generation.bot).toBe(generationId(generationInputs(entries, { OPENAI_API_KEY_2: 3 })))
        expect(weighted.generation.bot).not.toBe(plain.generation.bot)
        expect(generationEntryOf(weighted)).toEqual({ environment: 'dev', agent: 'bot', generation: weighted.generation.bot, weights: { OPENAI_API_KEY_2: 3 } })
        // Canary: weights are names and numbers; no value reaches the non-secret entry or the public files.
        const entryText = JSON.stringify(generationEntryOf(weighted))
        const publicText = weighted.files.filter((f) => !f.sensitive).map((f) => (typeof f.content === 'string' ? f.content : '')).join('\n')
        for (const value of VALUES.values()) {
            expect(entryText).not.toContain(value)
            expect(publicText).not.toContain(value)
        }
    })

    it('in the bundle payload, with the same generation id', async () => {
        const target = `target: bundle\n    recipient: ${host.recipient}`
        const out = await renderEnvironment({ env: 'dev', values: VALUES, deployment: parse(yamlOf('{ OPENAI_API_KEY: 2 }', undefined, target)).deployment as Deployment, catalog })
        const file = out.files.find((f) => f.path === 'bundles/bot.keys.age')
        const payload = JSON.parse(Buffer.from(await open(Buffer.from(file?.content as string), [host.identity])).toString('utf8')) as Record<string, unknown>
        expect(payload).toMatchObject({ generation: out.generation.bot, weights: { OPENAI_API_KEY: 2 } })
        expect(out.generation.bot).toBe(generationId(generationInputs([...VALUES].sort(), { OPENAI_API_KEY: 2 })))
    })
})
