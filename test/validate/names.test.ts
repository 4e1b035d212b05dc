/**
 * Name rules KF110-KF114 (pure: names and the catalog, no values).
 */
import { describe, expect, test } from 'vitest'
import { indexCatalog, parseCatalog } from '../../src/catalog/index.js'
import { checkNames, type NamedLine } from '../../src/validate/index.js'
import { CATALOG } from './fixture.js'

const catalog = parseCatalog(CATALOG).catalog
if (!catalog) throw new Error('test catalog invalid')
const index = indexCatalog(catalog)
const file = 'environments/prod/env.secrets'
const named = (...names: string[]): NamedLine[] => names.map((name, i) => ({ name, line: i + 1 }))
const complete = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'AGENT_GATEWAY_TOKEN']
const run = (names: NamedLine[], extra: Partial<Parameters<typeof checkNames>[0]> = {}): ReturnType<typeof checkNames> =>
    checkNames({ env: 'prod', file, names, index, ...extra })

describe('name rules', () => {
    test('known names, an alias-free pool member and a custom name pass', () => {
        expect(run(named(...complete, 'OPENAI_API_KEY_2', 'DEEPINFRA_API_KEY'))).toEqual([])
    })

    test('KF110: a name that is not UPPER_SNAKE', () => {
        const out = run(named(...complete, 'openai_key'))
        expect(out).toEqual([expect.objectContaining({ code: 'KF110', line: 4 })])
    })

    test('KF111: the same name twice, and an alias next to its canonical name', () => {
        expect(run(named(...complete, 'OPENAI_API_KEY')).map((x) => [x.code, x.line])).toEqual([['KF111', 4]])
        const alias = run(named(...complete, 'CLAUDE_API_KEY'))
        expect(alias.map((x) => x.code)).toEqual(['KF111'])
        expect(alias[0]?.message).toContain('ANTHROPIC_API_KEY')
    })

    test('KF112: a name the catalog does not know', () => {
        expect(run(named(...complete, 'MISTRAL_API_KEY')).map((x) => [x.code, x.line])).toEqual([['KF112', 4]])
    })

    test('KF113: a name required in this environment is missing (and only in environments that require it)', () => {
        const out = run(named('ANTHROPIC_API_KEY', 'OPENAI_API_KEY'))
        expect(out.map((x) => x.code)).toEqual(['KF113'])
        expect(out[0]?.message).toContain('AGENT_GATEWAY_TOKEN')
        expect(checkNames({ env: 'dev', file, names: named('ANTHROPIC_API_KEY', 'OPENAI_API_KEY'), index })).toEqual([])
    })

    test('any pool member satisfies the requirement (after rotate-key only OPENAI_API_KEY_2 is left)', () => {
        expect(run(named('ANTHROPIC_API_KEY', 'OPENAI_API_KEY_2', 'AGENT_GATEWAY_TOKEN'))).toEqual([])
        expect(run(named('ANTHROPIC_API_KEY', 'OPENAI_API_KEY_3', 'AGENT_GATEWAY_TOKEN'))).toEqual([])
        // A regional variant alone does not: agents outside that region would have no key.
        const regional = run(named('ANTHROPIC_API_KEY', 'OPENAI_API_KEY__EU', 'AGENT_GATEWAY_TOKEN'))
        expect(regional.map((x) => x.code)).toContain('KF113')
    })

    test('an alias satisfies the requirement of its canonical name', () => {
        expect(run(named('CLAUDE_API_KEY', 'OPENAI_API_KEY', 'AGENT_GATEWAY_TOKEN'))).toEqual([])
    })

    test('KF114: a deployment key (service or name) the environment lacks, reported in deployment.yaml', () => {
        const deploymentFile = 'environments/prod/deployment.yaml'
        const ok = run(named(...complete), { deploymentFile, deploymentKeys: [{ agent: 'bot', key: 'claude', line: 7 }, { agent: 'bot', key: 'OPENAI_API_KEY', line: 8 }] })
        expect(ok).toEqual([])
        const out = run(named(...complete), { deploymentFile, deploymentKeys: [{ agent: 'bot', key: 'gemini', line: 9 }, { agent: 'bot', key: 'nosuch', line: 10 }] })
        expect(out.map((x) => [x.code, x.file, x.line])).toEqual([['KF114', deploymentFile, 9], ['KF114', deploymentFile, 10]])
        expect(out[0]?.message).toContain('GEMINI_API_KEY')
        const reported = run(named(...complete), { deploymentFile, unknownKeysReported: true, deploymentKeys: [{ agent: 'bot', key: 'nosuch', line: 10 }] })
        expect(reported).toEqual([])
    })
})
