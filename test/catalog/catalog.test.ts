import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinSecrets, formatHint, indexCatalog, isPlaceholder, keyHint, loadCatalog, parseCatalog } from '../../src/catalog/index.js'
import { repoRoot } from '../helpers/tools.js'

const repoCatalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))

describe('catalog', () => {
    it('the built-in providers agree with environments/keyfleet.yaml', () => {
        for (const builtin of builtinSecrets) {
            const spec = repoCatalog.secrets.find((s) => s.service === builtin.service)
            expect(spec, builtin.service).toBeDefined()
            expect(spec?.name).toBe(builtin.name)
            expect(spec?.aliases).toEqual(builtin.aliases)
            expect(spec?.format?.source).toBe(builtin.format?.source)
            expect(spec?.probe).toEqual(builtin.probe)
        }
    })

    it('resolves services, aliases and pool members', () => {
        const index = indexCatalog(repoCatalog)
        expect(index.resolve('claude')?.name).toBe('ANTHROPIC_API_KEY')
        expect(index.resolve('CLAUDE_API_KEY')?.name).toBe('ANTHROPIC_API_KEY')
        expect(index.resolve('GOOGLE_API_KEY')?.name).toBe('GEMINI_API_KEY')
        expect(index.resolve('OPENAI_API_KEY_2')).toMatchObject({ name: 'OPENAI_API_KEY_2', poolIndex: 2 })
        expect(index.resolve('gateway')?.name).toBe('AGENT_GATEWAY_TOKEN')
        expect(index.resolve('OPENAI_API_KEY_1')).toBeUndefined()
        expect(index.resolve('NOT_A_KEY')).toBeUndefined()
    })

    it('reports every schema problem with its line', () => {
        const text = readFileSync(join(repoRoot, 'environments', 'keyfleet.yaml'), 'utf8')
            .replace("env: OPENAI_API_KEY", 'env: openai-key')
            .replace("required_in: [stage, prod]", 'required_in: [stage, qa]')
            .replace('path: /v1/openai/models, auth: bearer', 'path: /v1/openai/models, auth: query')
        const { catalog, problems } = parseCatalog(text)
        expect(catalog).toBeUndefined()
        const lines = text.split('\n')
        const lineOf = (needle: string): number => lines.findIndex((l) => l.includes(needle)) + 1
        expect(problems).toContainEqual({ line: lineOf('env: openai-key'), message: expect.stringContaining('UPPER_SNAKE') })
        expect(problems).toContainEqual({ line: lineOf('required_in: [stage, qa]'), message: expect.stringContaining('"qa"') })
        expect(problems.some((p) => p.message.includes('`auth`'))).toBe(true)
    })

    it('rejects a duplicate name and unknown fields', () => {
        const { problems } = parseCatalog('version: 1\nenvironments: [dev]\nproviders:\n  a:\n    env: X_KEY\n    colour: red\n  b:\n    env: Y_KEY\n    aliases: [X_KEY]\n')
        expect(problems.map((p) => p.line)).toEqual([6, 9])
    })

    it('rejects a name or alias ending in "_" (its variant TOKEN___EU would split as TOKEN + _EU)', () => {
        const { problems } = parseCatalog('version: 1\nenvironments: [dev]\ncustom:\n  TOKEN_:\n    service: gateway\n    aliases: [GW_]\n')
        expect(problems.map((p) => p.message).join('\n')).toMatch(/TOKEN_ ends with "_"[\s\S]*GW_ ends with "_"/)
        expect(parseCatalog('version: 1\nenvironments: [dev]\nproviders: {}\ncustom:\n  GATEWAY_TOKEN:\n    service: gateway\n').problems).toEqual([])
    })

    it('tells placeholders from keys', () => {
        for (const p of ['', '  ', 'changeme', 'CHANGE_ME', 'your-openai-key', 'your_api_key_here', 'placeholder-123', '<openai key>', '${OPENAI_API_KEY}', 'xxxxxxxx', 'sk-...', 'TODO']) {
            expect(isPlaceholder(p), p).toBe(true)
        }
        for (const k of ['sk-proj-abcdefghijklmnopqrstuv', 'AIzaSyA-1234567890abcdefghijklmnopqrstu', 'fw_abcdefghijklmnopqrstuvwx']) {
            expect(isPlaceholder(k), k).toBe(false)
        }
    })

    it('hints show provider, length and last four, and nothing of short values', () => {
        const index = indexCatalog(repoCatalog)
        expect(formatHint(keyHint('OPENAI_API_KEY', 'sk-proj-abcdefghijklmnopWXYZ', index))).toBe('openai, 28 chars, …WXYZ')
        expect(formatHint(keyHint('MY_PIN', '12345678', index))).toBe('custom, 8 chars')
    })
})
