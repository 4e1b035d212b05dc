import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadCatalog, type Catalog } from '../../src/catalog/index.js'
import {
    agentsAffectedBy, registryMermaid, buildRegistry, parseDeployment, registryJson, registryMarkdown, registryText, type Deployment,
} from '../../src/render/index.js'
import { repoRoot } from '../helpers/tools.js'

let catalog: Catalog
let prod: Deployment
beforeAll(() => {
    catalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))
    const file = 'environments/prod/deployment.yaml'
    const parsed = parseDeployment(readFileSync(join(repoRoot, file), 'utf8'), file, catalog)
    if (!parsed.deployment) throw new Error('demo prod deployment.yaml is invalid')
    prod = parsed.deployment
})

describe('registry', () => {
    it('maps each key to the agents that read it, and lists required keys no agent reads', () => {
        const registry = buildRegistry('prod', prod, catalog)
        const readers = Object.fromEntries(registry.keys.map((k) => [k.name, k.agents]))
        expect(readers).toEqual({
            AGENT_GATEWAY_TOKEN: [],
            ANTHROPIC_API_KEY: ['alice-laptop', 'research-agent', 'support-bot'],
            DEEPINFRA_API_KEY: ['batch-summarizer'],
            FIREWORKS_API_KEY: ['batch-summarizer'],
            GEMINI_API_KEY: ['research-agent'],
            OPENAI_API_KEY: ['alice-laptop', 'support-bot'],
        })
        expect(registry.keys.find((k) => k.name === 'AGENT_GATEWAY_TOKEN')?.required).toBe(true)
        expect(registry.agents.map((a) => a.name)).toEqual(['alice-laptop', 'batch-summarizer', 'research-agent', 'support-bot'])
    })

    it('answers which agents a rotation touches, by name, alias or service', () => {
        const registry = buildRegistry('prod', prod, catalog)
        const names = (keys: string[]): string[] => agentsAffectedBy(registry, keys).map((a) => a.name)
        expect(names(['OPENAI_API_KEY'])).toEqual(['alice-laptop', 'support-bot'])
        expect(names(['CLAUDE_API_KEY'])).toEqual(['alice-laptop', 'research-agent', 'support-bot'])
        expect(names(['fireworks', 'GEMINI_API_KEY'])).toEqual(['batch-summarizer', 'research-agent'])
        expect(names(['AGENT_GATEWAY_TOKEN', 'NOT_A_KEY'])).toEqual([])
    })

    it('renders text, JSON and markdown with a mermaid graph LR, deterministically', () => {
        const registry = buildRegistry('prod', prod, catalog)
        const text = registryText(registry)
        expect(text).toMatch(/^support-bot +aws +kubernetes +namespace agents-prod +ANTHROPIC_API_KEY, OPENAI_API_KEY$/m)
        expect(text).toMatch(/^alice-laptop +local +bundle +recipient age1hmkk…yrguyu +ANTHROPIC_API_KEY, OPENAI_API_KEY$/m)
        expect(text).toMatch(/^AGENT_GATEWAY_TOKEN +gateway +\(no agent; required here\)$/m)
        expect(JSON.parse(registryJson(registry))).toEqual(registry)
        const md = registryMarkdown(registry)
        expect(md).toContain('```mermaid\ngraph LR\n')
        const graph = md.slice(md.indexOf('graph LR'), md.lastIndexOf('```'))
        // One edge per (key, reader): 3 + 1 + 1 + 1 + 2.
        expect(graph.match(/ --> /g)).toHaveLength(8)
        expect(graph).toMatch(/k\d+\(\["OPENAI_API_KEY"\]\)/)
        expect(registryMarkdown(buildRegistry('prod', prod, catalog))).toBe(md)
    })

    it('replaces the graph by a note when it has more edges than GitHub draws', () => {
        const agents = Array.from({ length: 201 }, (_, i) => ({
            name: `bot-${i}`, cloud: 'aws' as const, target: 'kubernetes' as const, namespace: 'ns', recipient: undefined,
            keys: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'], deployment: `bot-${i}`, container: `bot-${i}`, mountPath: '/k', statusPort: 9469, statusUrl: undefined, line: i + 1,
        }))
        const graph = registryMermaid(buildRegistry('prod', { environment: 'prod', file: 'f', agents }, catalog))
        expect(graph).toBe('graph LR\n    note["201 agents, 4 keys, 402 edges: too many to draw; see the tables"]')
        const small = registryMermaid(buildRegistry('prod', { environment: 'prod', file: 'f', agents: agents.slice(0, 200) }, catalog))
        expect(small.match(/ --> /g)).toHaveLength(400)
    })
})
