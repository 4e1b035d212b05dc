import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinCatalog } from '../../src/catalog/index.js'
import { checkMarkdown, checkText, probeFindings, probeKeys, type ProbeResult } from '../../src/probe/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { repoRoot } from '../helpers/tools.js'
import { json, rejection, startServer } from './fake-provider.js'

const result = (name: string, status: ProbeResult['status'], detail: string, httpStatus?: number): ProbeResult =>
    ({ name, service: 'openai', status, detail, hint: 'openai, 51 chars, …wxyz', ms: 12, ...(httpStatus === undefined ? {} : { httpStatus }) })

const results: ProbeResult[] = [
    result('OPENAI_API_KEY', 'valid', 'HTTP 200', 200),
    result('OPENAI_API_KEY_2', 'invalid', 'HTTP 401 invalid_api_key', 401),
    result('OPENAI_API_KEY_3', 'limited', 'HTTP 429 (rate limited)', 429),
    result('OPENAI_API_KEY_4', 'unknown', 'timed out after 10000 ms (3 attempts)'),
    result('OPENAI_API_KEY_5', 'skipped', 'a placeholder, not a key; not sent'),
]

describe('probeFindings', () => {
    it('maps each status to its code and severity, at the line of the name', () => {
        const lines = new Map([['OPENAI_API_KEY_2', 4], ['OPENAI_API_KEY_3', 5]])
        const findings = probeFindings(results, 'environments/prod/env.secrets', lines)
        expect(findings.map((f) => [f.code, f.severity, f.line])).toEqual([
            ['KF500', 'error', 4], ['KF501', 'warning', 5], ['KF502', 'notice', undefined], ['KF503', 'notice', undefined],
        ])
        expect(findings.every((f) => f.file === 'environments/prod/env.secrets')).toBe(true)
        expect(findings[0]?.message).toContain('OPENAI_API_KEY_2 (openai, 51 chars, …wxyz) was rejected by openai: HTTP 401 invalid_api_key')
    })

    it('makes unknown an error under strict, and accepts a line function', () => {
        const findings = probeFindings(results, 'f', (name) => (name.endsWith('_4') ? 9 : undefined), { strict: true })
        expect(findings.find((f) => f.code === 'KF502')).toMatchObject({ severity: 'error', line: 9 })
    })
})

describe('checkMarkdown and checkText', () => {
    it('renders one row per key with status, HTTP status, hint and detail', () => {
        const md = checkMarkdown(results, { title: 'prod keys' })
        expect(md).toContain('### prod keys')
        expect(md).toContain('1 valid, 1 invalid, 1 limited, 1 unknown, 1 skipped')
        expect(md).toContain('| `OPENAI_API_KEY_2` | openai | ❌ invalid | 401 | openai, 51 chars, …wxyz | HTTP 401 invalid_api_key | 12 ms |')
        expect(md.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(5)
        const text = checkText(results)
        expect(text).toMatch(/^NAME\s+PROVIDER\s+STATUS/)
        expect(text).toMatch(/OPENAI_API_KEY_4\s+openai\s+unknown\s+-\s+12ms/)
        expect(text.trimEnd().split('\n').at(-1)).toBe('1 valid, 1 invalid, 1 limited, 1 unknown, 1 skipped')
    })

    it('escapes table syntax in cells', () => {
        const md = checkMarkdown([result('A|B', 'unknown', 'x | y <b>')])
        expect(md).toContain('`A\\|B`')
        expect(md).toContain('x \\| y &lt;b&gt;')
    })
})

describe('canary', () => {
    it('a key never appears in results, findings, markdown or text, even when the provider echoes it', async () => {
        const canary = makeCanary()
        const stolen = makeCanary('sk-proj-OTHER')
        const server = await startServer((req, res) => {
            const { status, body } = rejection('openai', canary)
            if (req.url?.startsWith('/moved')) return json(res, status, body)
            res.writeHead(302, { location: `/moved?k=${encodeURIComponent(canary)}` })
            res.end()
        })
        const other = await startServer((_req, res) => json(res, 200, {}))
        try {
            const values = new Map([['OPENAI_API_KEY', canary], ['OPENAI_API_KEY_2', `${stolen}\r\nx: y`], ['DEEPINFRA_API_KEY', stolen.slice(0, 32)]])
            const out = await probeKeys(values, builtinCatalog, { baseUrls: { openai: server.url, deepinfra: `${other.url}/${encodeURIComponent(stolen.slice(0, 8))}` }, retries: 0 })
            expect(out[0]?.status).toBe('invalid')
            const findings = probeFindings(out, 'environments/dev/env.secrets')
            const haystacks = {
                results: JSON.stringify(out), findings: JSON.stringify(findings), markdown: checkMarkdown(out), text: checkText(out),
            }
            expect(findLeaks(canary, haystacks)).toEqual([])
            expect(findLeaks(stolen, haystacks)).toEqual([])
        } finally {
            await server.close()
            await other.close()
        }
    })
})

describe('module boundary', () => {
    it('src/probe imports only the catalog, errors, findings, its own files and node built-ins (the loader ships it)', () => {
        const dir = join(repoRoot, 'src', 'probe')
        for (const file of readdirSync(dir)) {
            const text = readFileSync(join(dir, file), 'utf8')
            for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
                expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/[\w-]+\.js|\.\.\/catalog\/(hint|origins|placeholder|region|resolve|types)\.js|\.\.\/errors\.js|\.\.\/findings\.js|node:[\w/]+)$/)
            }
        }
    })
})
