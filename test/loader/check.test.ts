/**
 * The loader's live key check (`openKeys({ check })`) against fake providers
 * on loopback: results as `check` events, rejected keys as typed `error`
 * events and out of their pool, bad options refused before anything is sent,
 * and no value in anything the loader emits.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isKeyfleetError, openKeys, type CheckEvent, type KeyfleetError, type KeyStore } from '../../src/loader/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { fakeProvider, keyFrom, sampleKey, startServer, type FakeServer } from '../probe/fake-provider.js'
import { cleanupTemp, nextEvent, tempDir } from './helpers.js'

const SERVICES = ['claude', 'openai', 'gemini', 'fireworks', 'deepinfra'] as const

const servers: FakeServer[] = []
const stores: KeyStore[] = []
afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
    await Promise.all(servers.splice(0).map((s) => s.close()))
    cleanupTemp()
})

/** A fake server per provider accepting `valid` keys; baseUrls send every provider there. */
const providers = async (valid: readonly string[]): Promise<{ fake: Record<string, FakeServer>; baseUrls: Record<string, string> }> => {
    const fake: Record<string, FakeServer> = {}
    const baseUrls: Record<string, string> = {}
    for (const service of SERVICES) {
        const server = await startServer(fakeProvider(service, valid))
        servers.push(server)
        fake[service] = server
        baseUrls[service] = server.url
    }
    return { fake, baseUrls }
}

const envFile = (entries: Record<string, string>): string => {
    const file = join(tempDir('check'), 'agent.env')
    writeFile(file, entries)
    return file
}
const writeFile = (file: string, entries: Record<string, string>): void =>
    writeFileSync(file, Object.entries(entries).map(([k, v]) => `${k}=${v}\n`).join(''))

const open = async (...args: Parameters<typeof openKeys>): Promise<KeyStore> => {
    const store = await openKeys(...args)
    stores.push(store)
    return store
}

const byName = (event: CheckEvent): Record<string, CheckEvent['results'][number]> =>
    Object.fromEntries(event.results.map((r) => [r.name, r]))

describe('openKeys({ check })', () => {
    it('checks the first keys once, reports each result without its value, and a rejected key as LOADER_KEY_REJECTED', async () => {
        const good = sampleKey('openai', 'G')
        const bad = sampleKey('claude', 'B')
        const { fake, baseUrls } = await providers([good])
        const keys = await open({ path: envFile({ OPENAI_API_KEY: good, ANTHROPIC_API_KEY: bad, AGENT_GATEWAY_TOKEN: 'gw_not-a-provider' }), env: {}, check: { live: true, baseUrls } })
        const errors: KeyfleetError[] = []
        keys.on('error', (e) => errors.push(e))
        const event = await nextEvent(keys, 'check')

        expect(event.generation).toBe(1)
        const r = byName(event)
        expect(r.OPENAI_API_KEY).toMatchObject({ service: 'openai', status: 'valid', httpStatus: 200 })
        expect(r.ANTHROPIC_API_KEY).toMatchObject({ service: 'claude', status: 'invalid', httpStatus: 401, hint: `claude, ${bad.length} chars, …${bad.slice(-4)}` })
        expect(r.AGENT_GATEWAY_TOKEN?.status).toBe('skipped')
        for (const result of event.results) expect(Object.keys(result).sort()).toEqual(expect.arrayContaining(['detail', 'hint', 'ms', 'name', 'service', 'status']))
        for (const result of event.results) expect(Object.keys(result).every((k) => ['detail', 'hint', 'httpStatus', 'ms', 'name', 'service', 'status'].includes(k))).toBe(true)
        expect(keys.lastCheck).toBe(event)

        expect(errors.map((e) => e.code)).toEqual(['LOADER_KEY_REJECTED'])
        expect(isKeyfleetError(errors[0])).toBe(true)
        expect(errors[0]?.message).toMatch(/^ANTHROPIC_API_KEY \(claude, \d+ chars, …BBBB\) was rejected by claude: HTTP 401/)
        // Each key went to its own provider, once, in its header.
        expect(fake.openai?.seen.map((s) => keyFrom('openai', s.headers))).toEqual([good])
        expect(fake.claude?.seen.map((s) => keyFrom('claude', s.headers))).toEqual([bad])
        // The keys are still served: the check reports, it does not remove.
        expect(keys.get('claude')).toBe(bad)
    })

    it('takes a rejected pool member out of rotation so get(service) prefers the others', async () => {
        const [bad, good] = [sampleKey('openai', 'B'), sampleKey('openai', 'G')]
        const { baseUrls } = await providers([good])
        const keys = await open({ path: envFile({ OPENAI_API_KEY: bad, OPENAI_API_KEY_2: good }), env: {}, check: { live: true, baseUrls } })
        // Before the check, the pool rotates over both.
        expect(new Set([keys.get('openai'), keys.get('openai')])).toEqual(new Set([bad, good]))
        const event = await nextEvent(keys, 'check')
        expect(byName(event).OPENAI_API_KEY?.status).toBe('invalid')
        expect(Array.from({ length: 6 }, () => keys.get('openai'))).toEqual(Array(6).fill(good))
        // The exact name still returns exactly that key.
        expect(keys.get('OPENAI_API_KEY')).toBe(bad)
    })

    it('checks again after a change with onChange, and the rotated key rejoins its pool', async () => {
        const [bad, good, fresh] = [sampleKey('openai', 'B'), sampleKey('openai', 'G'), sampleKey('openai', 'F')]
        const { baseUrls } = await providers([good, fresh])
        const file = envFile({ OPENAI_API_KEY: bad, OPENAI_API_KEY_2: good })
        const keys = await open({ path: file, env: {}, pollIntervalMs: 20, check: { live: true, baseUrls, onChange: true } })
        expect(byName(await nextEvent(keys, 'check')).OPENAI_API_KEY?.status).toBe('invalid')
        const second = nextEvent(keys, 'check', (e) => e.generation === 2)
        writeFile(file, { OPENAI_API_KEY: fresh, OPENAI_API_KEY_2: good })
        const event = await second
        expect(byName(event).OPENAI_API_KEY).toMatchObject({ status: 'valid', hint: expect.stringContaining('…FFFF') })
        expect(new Set(Array.from({ length: 4 }, () => keys.get('openai')))).toEqual(new Set([fresh, good]))
    })

    it('waits for the source when it is missing at start, then checks the first keys it serves', async () => {
        const good = sampleKey('openai', 'G')
        const { fake, baseUrls } = await providers([good])
        const file = join(tempDir('check'), 'later.env')
        const keys = await open({ path: file, env: {}, pollIntervalMs: 20, check: { live: true, baseUrls } })
        expect(keys.generation).toBe(0)
        const checked = nextEvent(keys, 'check')
        writeFile(file, { OPENAI_API_KEY: good })
        const event = await checked
        expect(event.generation).toBe(1)
        expect(event.results.map((r) => [r.name, r.status])).toEqual([['OPENAI_API_KEY', 'valid']])
        expect(fake.openai?.seen).toHaveLength(1)
    })

    it('reports an unreachable provider as LOADER_KEY_UNVERIFIED only when strict', async () => {
        const key = sampleKey('openai')
        // Nothing listens on port 9 (discard).
        const keys = await open({ path: envFile({ OPENAI_API_KEY: key }), env: {}, check: { live: true, strict: true, retries: 0, baseUrls: { openai: 'http://127.0.0.1:9' } } })
        const error = nextEvent(keys, 'error')
        const event = await nextEvent(keys, 'check')
        expect(event.results[0]).toMatchObject({ name: 'OPENAI_API_KEY', status: 'unknown' })
        expect((await error).code).toBe('LOADER_KEY_UNVERIFIED')

        // Without strict the result is the same, and no error is emitted (errors follow their check event synchronously).
        const lenient = await open({ path: envFile({ OPENAI_API_KEY: key }), env: {}, check: { live: true, retries: 0, baseUrls: { openai: 'http://127.0.0.1:9' } } })
        const errors: string[] = []
        lenient.on('error', (e) => errors.push(e.code))
        expect((await nextEvent(lenient, 'check')).results[0]?.status).toBe('unknown')
        expect(errors).toEqual([])
    })

    it('refuses a bad base URL in openKeys, before reading or sending any key', async () => {
        const { fake } = await providers([])
        const path = envFile({ OPENAI_API_KEY: sampleKey('openai') })
        await expect(openKeys({ path, env: {}, check: { live: true, baseUrls: { openai: 'http://gateway.example.com' } } }))
            .rejects.toMatchObject({ code: 'PROBE_BASE_URL_INVALID' })
        await expect(openKeys({ path, env: {}, check: { live: true, baseUrls: { nosuch: fake.openai?.url ?? '' } } }))
            .rejects.toMatchObject({ code: 'PROBE_UNKNOWN_PROVIDER' })
        expect(Object.values(fake).flatMap((s) => s.seen)).toEqual([])
    })

    it('sends nothing with live: false', async () => {
        const { fake, baseUrls } = await providers([])
        const keys = await open({ path: envFile({ OPENAI_API_KEY: sampleKey('openai') }), env: {}, check: { live: false, baseUrls } })
        // A change is the latest point a check could start; give it time to reach a server.
        await new Promise((resolve) => { setTimeout(resolve, 200) })
        expect(keys.lastCheck).toBeUndefined()
        expect(Object.values(fake).flatMap((s) => s.seen)).toEqual([])
    })

    it('emits no value in any form: check events, error events and their causes carry names and hints only', async () => {
        const [openai, claude] = [makeCanary(), makeCanary('sk-ant-api03-CANARY')]
        const { fake, baseUrls } = await providers([])
        // Keys come from the file and from the environment; both are probed, both rejected (the fakes echo the key in the body).
        const keys = await open({ path: envFile({ OPENAI_API_KEY: openai }), env: { ANTHROPIC_API_KEY: claude }, check: { live: true, baseUrls } })
        const emitted: string[] = []
        keys.on('error', (e) => {
            for (let c: unknown = e; c instanceof Error; c = c.cause) emitted.push(c.message, c.stack ?? '', JSON.stringify(c))
        })
        const event = await nextEvent(keys, 'check')
        emitted.push(JSON.stringify(event), JSON.stringify(keys.lastCheck), String(event.results.map((r) => Object.values(r).join(' '))))
        expect(event.results.map((r) => r.status)).toEqual(['invalid', 'invalid'])
        expect(emitted.filter((e) => e.includes('LOADER_KEY_REJECTED') || e.includes('was rejected'))).not.toEqual([])
        expect(fake.openai?.seen.map((s) => keyFrom('openai', s.headers))).toEqual([openai])
        for (const value of [openai, claude]) expect(findLeaks(value, { emitted: emitted.join('\n') })).toEqual([])
    })
})
