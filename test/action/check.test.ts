/**
 * `command: check` end to end: the committed bundle, run as the runner runs
 * it, probing fake providers on loopback through the base-urls input. Every
 * provider of the catalog is pointed at loopback, so no test key ever leaves
 * the machine.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { fakeProvider, json, keyFrom, rejection, specOf, startServer, type FakeServer, type Handler } from '../probe/fake-provider.js'
import { commitAll, demoKey, expectMasksFirst, leakHaystacks, makeSandbox, outputLines, runAction, type Sandbox, sopsSet } from './harness.js'

const SERVICES = ['claude', 'openai', 'gemini', 'fireworks', 'deepinfra'] as const
type Service = typeof SERVICES[number]

const sandboxes: Sandbox[] = []
const servers: FakeServer[] = []
afterEach(async () => {
    for (const sb of sandboxes.splice(0)) rmSync(sb.base, { recursive: true, force: true })
    await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** Accepts any key sent in the provider's auth shape (the demo keys are fake). */
const acceptAll = (service: string): Handler => (req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== specOf(service).probe?.path) return json(res, 404, {})
    if (keyFrom(service, req.headers) === undefined) return json(res, 401, rejection(service, '').body)
    json(res, 200, { data: [] })
}

/** One fake server per provider (`handlers` overrides acceptAll) and the base-urls input pointing at them. */
const providers = async (handlers: Partial<Record<Service, Handler>> = {}): Promise<{ servers: Record<Service, FakeServer>; baseUrls: string }> => {
    const started = {} as Record<Service, FakeServer>
    for (const service of SERVICES) {
        const server = await startServer(handlers[service] ?? acceptAll(service))
        servers.push(server)
        started[service] = server
    }
    return { servers: started, baseUrls: SERVICES.map((s) => `${s}=${started[s].url}`).join('\n') }
}

const sandbox = (): Sandbox => {
    const sb = makeSandbox()
    sandboxes.push(sb)
    return sb
}

/** The 1-based line of NAME in the sandbox's env.secrets. */
const lineOf = (sb: Sandbox, env: string, name: string): number =>
    readFileSync(join(sb.workspace, 'environments', env, 'env.secrets'), 'utf8').split('\n').findIndex((l) => l.startsWith(`${name}=`)) + 1

describe('keyfleet action: check', () => {
    it('fails the step on a key the provider rejects, annotated at its line, and leaks the key nowhere', async () => {
        const sb = sandbox()
        const canary = makeCanary()
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', canary)
        commitAll(sb, 'bad key')
        const { servers: fake, baseUrls } = await providers({ openai: fakeProvider('openai', []) })

        const run = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), 'base-urls': baseUrls })
        expect(run.code, run.stdout + run.stderr).toBe(1)

        // The probe really went to the fake OpenAI, carrying the key in its header only.
        expect(fake.openai.seen.map((s) => keyFrom('openai', s.headers))).toEqual([canary])
        expect(fake.openai.seen.every((s) => !s.url.includes(canary.slice(-8)))).toBe(true)

        const line = lineOf(sb, 'dev', 'OPENAI_API_KEY')
        expect(line).toBeGreaterThan(0)
        expect(run.stdout).toMatch(new RegExp(`^::error title=KF500,file=environments/dev/env\\.secrets,line=${line}::OPENAI_API_KEY \\(openai, \\d+ chars, …${canary.slice(-4)}\\) was rejected by openai: HTTP 401`, 'm'))
        expect(run.stdout).toMatch(/^::error::1 error-level finding\(s\)/m)
        expect(Number(run.outputs.findings)).toBeGreaterThanOrEqual(1)

        expect(run.summary).toContain('| Key | Provider | Status | HTTP | Hint | Detail | Time |')
        expect(run.summary).toMatch(/\| `OPENAI_API_KEY` \| openai \| ❌ invalid \| 401 \|/)
        expect(run.summary).toMatch(/\| `ANTHROPIC_API_KEY` \| claude \| /)

        expectMasksFirst(run)
        expect(outputLines(run)).toContain(`::add-mask::${canary}`)
        // The fake provider echoes the key in its error body: none of it may surface.
        expect(findLeaks(canary, leakHaystacks(sb, run))).toEqual([])
        expect(readdirSync(sb.runnerTemp)).toEqual([])
    })

    it('passes when every provider accepts its key and writes the table to the step summary', async () => {
        const sb = sandbox()
        const canary = makeCanary()
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', canary)
        commitAll(sb, 'good key')
        const { servers: fake, baseUrls } = await providers({ openai: fakeProvider('openai', [canary]) })

        const run = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), 'base-urls': baseUrls })
        expect(run.code, run.stdout + run.stderr).toBe(0)
        expect(fake.openai.seen).toHaveLength(1)
        expect(run.summary).toContain('<h2>keyfleet check</h2>')
        expect(run.summary).toContain('### Live key check: dev')
        expect(run.summary).toMatch(/\| `OPENAI_API_KEY` \| openai \| ✅ valid \| 200 \|/)
        expect(run.stdout).not.toMatch(/^::error/m)
        expect(run.outputs.findings).toMatch(/^\d+$/)
        expectMasksFirst(run)
        expect(findLeaks(canary, leakHaystacks(sb, run))).toEqual([])
    })

    it('reports a rate-limited key as a warning without failing, and an unreachable provider as an error only with strict', async () => {
        const sb = sandbox()
        const { baseUrls } = await providers({ openai: (_req, res) => json(res, 429, { error: { type: 'rate_limit' } }, { 'retry-after': '7' }) })
        // Nothing listens on port 9 (discard): an unknown result.
        const unreachable = baseUrls.replace(/^claude=.*$/m, 'claude=http://127.0.0.1:9')

        const lenient = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), 'base-urls': unreachable })
        expect(lenient.code, lenient.stdout).toBe(0)
        expect(lenient.stdout).toMatch(/^::warning title=KF501,file=environments\/dev\/env\.secrets,line=\d+::OPENAI_API_KEY/m)
        expect(lenient.stdout).toMatch(/^::notice title=KF502,file=environments\/dev\/env\.secrets,line=\d+::ANTHROPIC_API_KEY/m)

        const strict = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), 'base-urls': unreachable, strict: 'true' })
        expect(strict.code).toBe(1)
        expect(strict.stdout).toMatch(/^::error title=KF502,file=environments\/dev\/env\.secrets,line=\d+::ANTHROPIC_API_KEY/m)
    }, 30_000)

    it('runs the offline checks only with live: false, and sends nothing', async () => {
        const sb = sandbox()
        const { servers: fake } = await providers()
        const run = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), live: 'false' })
        expect(run.code, run.stdout).toBe(0)
        expect(run.summary).toContain('Check: dev (offline only)')
        expect(run.summary).not.toContain('Live key check')
        expect(SERVICES.flatMap((s) => fake[s].seen)).toEqual([])
    })

    it('refuses a base-urls entry naming no provider before sending any key', async () => {
        const sb = sandbox()
        const { servers: fake, baseUrls } = await providers()
        const run = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), 'base-urls': `${baseUrls}\nnosuch=http://127.0.0.1:9` })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=PROBE_UNKNOWN_PROVIDER::PROBE_UNKNOWN_PROVIDER: the base-urls input: base-urls names "nosuch"/m)
        expect(SERVICES.flatMap((s) => fake[s].seen)).toEqual([])
        expectMasksFirst(run)
    })

    it('refuses a plain-http base URL off loopback before sending any key', async () => {
        const sb = sandbox()
        const run = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), 'base-urls': 'openai=http://gateway.example.com' })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=PROBE_BASE_URL_INVALID::/m)
    })

    it('needs the environment and age-key inputs, and keeps live/strict/base-urls to check', async () => {
        const sb = sandbox()
        const noKey = await runAction(sb, { command: 'check', environment: 'dev' })
        expect(noKey.code).toBe(1)
        expect(noKey.stdout).toMatch(/^::error title=ACTION_BAD_INPUT::ACTION_BAD_INPUT: command "check" needs the age-key input/m)
        const stray = await runAction(sb, { command: 'validate', strict: 'true' })
        expect(stray.code).toBe(1)
        expect(stray.stdout).toMatch(/apply to commands "check" and "fold" only/)
        const badBool = await runAction(sb, { command: 'check', environment: 'dev', 'age-key': demoKey('dev'), live: 'yes' })
        expect(badBool.code).toBe(1)
        expect(badBool.stdout).toMatch(/input live must be true or false/)
    })
})
