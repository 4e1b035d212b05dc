/** Agent registration: appended with comments and order kept, validated by the render schema, refused otherwise. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { registerAgent } from '../../src/lifecycle/index.js'
import { parseDeployment } from '../../src/render/index.js'
import { repoRoot } from '../helpers/tools.js'
import { catalogOf } from './helpers.js'

const FILE = 'environments/dev/deployment.yaml'
const text = readFileSync(join(repoRoot, FILE), 'utf8')
const catalog = catalogOf(repoRoot)
const HOST = 'age1kjtzx7zxsjl0nm50nvwmch68tc8r7kwn80gawllcf24lcz87f4hsc0w2ks'

describe('registerAgent', () => {
    it('appends a bundle agent and leaves every existing line, comment and agent as it was', () => {
        const out = registerAgent(text, FILE, { name: 'bob-laptop', cloud: 'local', keys: ['claude', 'OPENAI_API_KEY_2'], recipient: HOST }, catalog)
        expect(out).toBe(`${text}  - name: bob-laptop\n    cloud: local\n    target: bundle\n    recipient: ${HOST}\n    keys: [claude, OPENAI_API_KEY_2]\n`)
        const parsed = parseDeployment(out, FILE, catalog)
        expect(parsed.findings).toEqual([])
        expect(parsed.deployment?.agents.map((a) => a.name)).toEqual(['support-bot', 'research-agent', 'batch-summarizer', 'alice-laptop', 'bob-laptop'])
        expect(parsed.deployment?.agents.at(-1)).toMatchObject({ target: 'bundle', recipient: HOST, keys: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY_2'] })
    })

    it('appends a kubernetes agent when a namespace is given', () => {
        const out = registerAgent(text, FILE, { name: 'summarizer', cloud: 'gcp', keys: ['gemini'], namespace: 'agents-dev' }, catalog)
        expect(parseDeployment(out, FILE, catalog).deployment?.agents.at(-1)).toMatchObject({ name: 'summarizer', target: 'kubernetes', namespace: 'agents-dev', keys: ['GEMINI_API_KEY'] })
    })

    it('refuses duplicates, bad recipients, unknown keys, bad clouds and names, and recipient with namespace', () => {
        const base = { cloud: 'local', keys: ['claude'] }
        const cases: [Parameters<typeof registerAgent>[2], string][] = [
            [{ ...base, name: 'alice-laptop', recipient: HOST }, 'AGENT_EXISTS'],
            [{ ...base, name: 'x', recipient: 'age1notarecipient' }, 'AGE_BAD_RECIPIENT'],
            [{ ...base, name: 'x', recipient: 'AGE-SECRET-KEY-1QQQQQQ' }, 'AGE_BAD_RECIPIENT'],
            [{ ...base, name: 'x', recipient: HOST, keys: ['NOPE_KEY'] }, 'DEPLOYMENT_INVALID'],
            [{ ...base, name: 'x', recipient: HOST, cloud: 'mars' }, 'DEPLOYMENT_INVALID'],
            [{ ...base, name: 'Bad_Name', recipient: HOST }, 'DEPLOYMENT_INVALID'],
            [{ ...base, name: 'x', namespace: 'Not A Label' }, 'DEPLOYMENT_INVALID'],
            [{ ...base, name: 'x', recipient: HOST, namespace: 'ns' }, 'USAGE'],
            [{ ...base, name: 'x' }, 'USAGE'],
        ]
        for (const [agent, code] of cases) {
            expect(() => registerAgent(text, FILE, agent, catalog), JSON.stringify(agent)).toThrow(expect.objectContaining({ code }))
        }
        const error = (() => { try { registerAgent(text, FILE, { ...base, name: 'x', recipient: 'AGE-SECRET-KEY-1QQQQQQ' }, catalog) } catch (e) { return e as Error } return undefined })()
        expect(error?.message).not.toContain('AGE-SECRET-KEY-1QQQQQQ')
    })
})
