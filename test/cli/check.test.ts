/**
 * `keyfleet check` end to end, in process, against a copy of the demo
 * repository and fake providers on loopback (--base-url).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { fakeProvider, json, useFakeServers } from '../probe/fake-provider.js'

const serve = useFakeServers()

describe('keyfleet check', () => {
    let repo: string
    const canary = makeCanary()
    const outputs: Record<string, string> = {}
    const check = async (label: string, argv: string[], env: Record<string, string> = {}) => {
        const result = await keyfleet(['check', ...argv], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev'), ...env } })
        outputs[`${label} stdout`] = result.stdout
        outputs[`${label} stderr`] = result.stderr
        return result
    }

    beforeAll(async () => {
        repo = makeDemoRepo()
        // The dev OPENAI_API_KEY becomes the canary (line 2 of env.secrets).
        const set = await keyfleet(['set', 'dev', 'OPENAI_API_KEY'], { cwd: repo, stdin: canary, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(set.code).toBe(0)
    })

    afterAll(() => {
        // Everything any run printed, in every form, is free of the canary.
        expect(findLeaks(canary, outputs)).toEqual([])
    })

    it('without --live runs the offline checks only and sends nothing', async () => {
        const r = await check('offline', ['dev'])
        expect(r.code).toBe(0)
        expect(r.stdout).toContain('ok: dev, 3 key(s) checked offline (add --live to ask the providers)')
    })

    it('--live: an invalid key fails with KF500 at its line, a 429 warns, a valid key passes', async () => {
        const claude = await serve((_req, res) => json(res, 200, { data: [] }))
        const openai = await serve(fakeProvider('openai', []))
        const gemini = await serve((_req, res) => json(res, 429, { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': '3' }))
        const r = await check('live', ['dev', '--live', '--base-url', `claude=${claude.url}`, '--base-url', `openai=${openai.url}`, '--base-url', `gemini=${gemini.url}`])
        expect(r.code).toBe(1)
        expect(r.stdout).toMatch(/environments\/dev\/env\.secrets:2: error KF500 OPENAI_API_KEY \(openai, \d+ chars, …[0-9a-f]{4}\) was rejected by openai: HTTP 401 invalid_api_key invalid_request_error/)
        expect(r.stdout).toMatch(/environments\/dev\/env\.secrets:3: warning KF501 GEMINI_API_KEY/)
        expect(r.stdout).toMatch(/ANTHROPIC_API_KEY\s+claude\s+valid\s+200/)
        expect(r.stdout).toContain('1 error(s), 1 warning(s): dev, 3 key(s) checked offline and live')
        expect(openai.seen[0]?.headers.authorization).toBe(`Bearer ${canary}`)
        expect(openai.seen[0]?.url).toBe('/v1/models')
    })

    it('--json carries results and findings, never values', async () => {
        const ok = await serve((_req, res) => json(res, 200, {}))
        const openai = await serve(fakeProvider('openai', []))
        const r = await check('json', ['dev', '--live', '--json', '--base-url', `claude=${ok.url}`, '--base-url', `openai=${openai.url}`, '--base-url', `gemini=${ok.url}`])
        expect(r.code).toBe(1)
        const out = JSON.parse(r.stdout) as { env: string; live: boolean; errors: number; results: { name: string; status: string }[]; findings: { code: string; line: number }[] }
        expect(out).toMatchObject({ env: 'dev', live: true, errors: 1 })
        expect(out.results.map((x) => [x.name, x.status])).toEqual([['ANTHROPIC_API_KEY', 'valid'], ['OPENAI_API_KEY', 'invalid'], ['GEMINI_API_KEY', 'valid']])
        expect(out.findings).toEqual([expect.objectContaining({ code: 'KF500', line: 2 })])
    })

    it('unknown (timeout) passes unless --strict', async () => {
        const ok = await serve((_req, res) => json(res, 200, {}))
        const slow = await serve((_req, res) => { setTimeout(() => json(res, 200, {}), 3000) })
        const args = ['dev', '--live', '--timeout-ms', '100', '--retries', '0', '--base-url', `claude=${ok.url}`, '--base-url', `openai=${ok.url}`, '--base-url', `gemini=${slow.url}`]
        const lax = await check('lax', args)
        expect(lax.code).toBe(0)
        expect(lax.stdout).toMatch(/notice KF502 GEMINI_API_KEY .* timed out after 100 ms/)
        const strict = await check('strict', [...args, '--strict'])
        expect(strict.code).toBe(1)
        expect(strict.stdout).toMatch(/error KF502 GEMINI_API_KEY/)
    })

    it('a placeholder is an offline error and is not sent to the provider', async () => {
        const local = makeDemoRepo()
        expect((await keyfleet(['set', 'dev', 'OPENAI_API_KEY', '--force'], { cwd: local, stdin: 'changeme', env: { SOPS_AGE_KEY_FILE: demoKey(local, 'admin') } })).code).toBe(0)
        const ok = await serve((_req, res) => json(res, 200, {}))
        const r = await keyfleet(['check', 'dev', '--live', '--base-url', `claude=${ok.url}`, '--base-url', `openai=${ok.url}`, '--base-url', `gemini=${ok.url}`],
            { cwd: local, env: { SOPS_AGE_KEY_FILE: demoKey(local, 'dev') } })
        expect(r.code).toBe(1)
        expect(r.stdout).toMatch(/env\.secrets:2: error KF142 OPENAI_API_KEY holds a placeholder/)
        expect(r.stdout).not.toContain('KF503')
        expect(ok.seen.filter((s) => s.url === '/v1/models' && s.headers.authorization !== undefined)).toHaveLength(0)
    })

    it('exit 3 without a matching identity, 2 for bad options', async () => {
        expect((await check('wrong id', ['dev'], { SOPS_AGE_KEY_FILE: demoKey(repo, 'laptop-alice') })).code).toBe(3)
        const noLive = await check('no live', ['dev', '--base-url', 'openai=https://x.example'])
        expect(noLive.code).toBe(2)
        expect(noLive.stderr).toContain('only apply with --live')
        const unknown = await check('unknown provider', ['dev', '--live', '--base-url', 'opnai=https://x.example'])
        expect(unknown.code).toBe(2)
        expect(unknown.stderr).toContain('PROBE_UNKNOWN_PROVIDER')
        expect((await check('insecure', ['dev', '--live', '--base-url', 'openai=http://gateway.example.com'])).stderr).toContain('only sent over https')
        expect((await check('bad number', ['dev', '--live', '--timeout-ms', 'soon'])).code).toBe(2)
    })
})
