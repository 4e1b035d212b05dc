/**
 * `keys.fetch` (issue 18) against real loopback servers: the provider's own
 * auth header goes out (as the server received it), same-origin redirects are
 * followed, a redirect to another origin is refused before that origin ever
 * sees a request, and no key appears in anything keys.fetch returns, throws or
 * reports (canary search: raw, base64, URL- and JSON-escaped).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isKeyfleetError, openKeys, type KeyStore } from '../../src/loader/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { startFakeProvider, type FakeProvider } from './fake-provider.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { for (const c of cleanup.splice(0)) await c() })

const storeWith = async (env: Record<string, string>): Promise<KeyStore> => {
    const store = await openKeys({ env, watch: false, persistent: false, selection: { strategy: 'headroom' } })
    cleanup.push(() => store.close())
    return store
}
const fake = async (options: Parameters<typeof startFakeProvider>[0]): Promise<FakeProvider> => {
    const f = await startFakeProvider(options)
    cleanup.push(() => f.close())
    return f
}

/** A server on another port (another origin) that counts what reaches it. */
const elsewhere = async (): Promise<{ origin: string; hits: { headers: Record<string, unknown> }[] }> => {
    const hits: { headers: Record<string, unknown> }[] = []
    const server: Server = createServer((req, res) => { hits.push({ headers: { ...req.headers } }); res.end('gotcha') })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    cleanup.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => { resolve() }) }))
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }
}

const caught = async (p: Promise<unknown>): Promise<Error> => p.then(() => { throw new Error('expected a rejection') }, (e: unknown) => e as Error)

describe('keys.fetch', () => {
    it("sends each provider's own auth header, and its fixed headers (anthropic-version)", async () => {
        const keys = { openai: makeCanary('sk-proj-'), claude: makeCanary('sk-ant-api03-'), gemini: makeCanary('AIza') }
        const f = await fake({ dialect: 'openai', windowMs: 60_000, limits: { [keys.openai]: 9, [keys.claude]: 9, [keys.gemini]: 9 } })
        const store = await storeWith({ OPENAI_API_KEY: keys.openai, ANTHROPIC_API_KEY: keys.claude, GEMINI_API_KEY: keys.gemini })
        for (const service of ['openai', 'claude', 'gemini'] as const) expect((await store.fetch(service, f.url)).status).toBe(200)
        const [o, c, g] = f.requests
        expect(o?.headers.authorization).toBe(`Bearer ${keys.openai}`)
        expect(c?.headers['x-api-key']).toBe(keys.claude)
        expect(c?.headers['anthropic-version']).toBe('2023-06-01')
        expect(g?.headers['x-goog-api-key']).toBe(keys.gemini)
        // Never in the URL.
        for (const r of f.requests) expect(r.path).toBe('/v1/chat/completions')
    })

    it('follows a same-origin redirect with the key, 303 as GET', async () => {
        const key = makeCanary('sk-proj-')
        const f = await fake({
            dialect: 'openai', windowMs: 60_000, limits: { [key]: 9 },
            routes: { '/moved': (_req, res) => { res.writeHead(303, { location: '/v1/chat/completions' }).end() } },
        })
        const store = await storeWith({ OPENAI_API_KEY: key })
        const res = await store.fetch('openai', `${f.origin}/moved`, { method: 'POST', body: '{"x":1}', headers: { 'content-type': 'application/json' } })
        expect(res.status).toBe(200)
        expect(f.requests.map((r) => [r.method, r.path, r.key === key])).toEqual([['POST', '/moved', true], ['GET', '/v1/chat/completions', true]])
    })

    for (const status of [301, 302, 303, 307, 308]) {
        it(`refuses a ${status} redirect to another origin: that origin sees nothing, the error names no key`, async () => {
            const key = makeCanary('sk-proj-')
            const other = await elsewhere()
            const f = await fake({
                dialect: 'openai', windowMs: 60_000, limits: { [key]: 9 },
                routes: { '/steal': (_req, res) => { res.writeHead(status, { location: `${other.origin}/collect?k=1` }).end() } },
            })
            const store = await storeWith({ OPENAI_API_KEY: key })
            const error = await caught(store.fetch('openai', `${f.origin}/steal`, { method: 'POST', body: '{}' }))
            expect(isKeyfleetError(error) && error.code).toBe('LOADER_FETCH_REDIRECT_BLOCKED')
            expect(error.message).toContain(other.origin)
            expect(other.hits).toHaveLength(0)
            expect(findLeaks(key, { message: error.message, stack: error.stack ?? '', json: JSON.stringify(error) })).toEqual([])
        })
    }

    it('refuses plain http to a host other than loopback, and a URL with credentials, before sending anything', async () => {
        const key = makeCanary('sk-proj-')
        const store = await storeWith({ OPENAI_API_KEY: key })
        let sent = 0
        const spy = (() => { sent++; return Promise.resolve(new Response('')) }) as typeof fetch
        for (const url of ['http://api.openai.example/v1/models', 'https://user:pw@api.openai.com/v1/models', 'ftp://x.example/']) {
            const error = await caught(store.fetch('openai', url, {}, { fetch: spy }))
            expect(isKeyfleetError(error) && error.code).toBe('LOADER_FETCH_INSECURE')
        }
        expect(sent).toBe(0)
    })

    it('no key in a network failure, in stats, in observe results or in any answer (canary)', async () => {
        const keys = [makeCanary('sk-proj-'), makeCanary('sk-proj-'), makeCanary('sk-proj-')]
        const f = await fake({ dialect: 'openai', windowMs: 60_000, limits: { [keys[0] as string]: 1, [keys[1] as string]: 1, [keys[2] as string]: 1 }, revoked: [keys[2] as string] })
        const store = await storeWith({ OPENAI_API_KEY: keys[0] as string, OPENAI_API_KEY_2: keys[1] as string, OPENAI_API_KEY_3: keys[2] as string })
        const haystacks: Record<string, string> = {}
        for (let i = 0; i < 5; i++) {
            const res = await store.fetch('openai', f.url)
            haystacks[`answer ${i}`] = `${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`
        }
        // A closed port: the request fails without an answer.
        const closed = await startFakeProvider({ dialect: 'openai', windowMs: 1, limits: {} })
        await closed.close()
        const error = await caught(store.fetch('openai', closed.url))
        expect(isKeyfleetError(error) && error.code).toBe('LOADER_FETCH_FAILED')
        haystacks.error = `${error.message} ${error.stack ?? ''} ${String((error as { cause?: unknown }).cause)} ${JSON.stringify(error)}`
        const choice = store.pick('openai')
        if (choice) haystacks.observe = JSON.stringify(store.observe(choice, { status: 429, headers: { 'retry-after': '1' } }))
        haystacks.stats = JSON.stringify(store.stats())
        for (const key of keys) expect(findLeaks(key, haystacks)).toEqual([])
        // The stats did take it all in: names and numbers.
        const members = store.stats().services.find((s) => s.service === 'openai')?.members ?? []
        expect(members.map((m) => m.name)).toEqual(['OPENAI_API_KEY', 'OPENAI_API_KEY_2', 'OPENAI_API_KEY_3'])
        expect(members[2]?.rejected).toBe(1)
        expect(members.reduce((n, m) => n + m.limited, 0)).toBeGreaterThan(0)
    })

    it('a custom secret needs an auth scheme; a missing service is LOADER_KEY_MISSING', async () => {
        const store = await storeWith({ OPENAI_API_KEY: makeCanary('sk-proj-') })
        const noAuth = await caught(store.fetch('gateway', 'https://gateway.example/'))
        expect(isKeyfleetError(noAuth) && noAuth.code).toBe('LOADER_FETCH_NO_AUTH')
        const noKey = await caught(store.fetch('gateway', 'https://gateway.example/', {}, { auth: 'bearer' }))
        expect(isKeyfleetError(noKey) && noKey.code).toBe('LOADER_KEY_MISSING')
        const error = await caught(store.fetch('deepinfra', 'https://api.deepinfra.com/v1/openai/models'))
        expect(isKeyfleetError(error) && error.code).toBe('LOADER_KEY_MISSING')
    })
})

describe('keys.fetch: header values Node refuses', () => {
    const leaksOf = (key: string, error: Error): string[] => findLeaks(key, {
        message: error.message, stack: error.stack ?? '', cause: String((error as { cause?: unknown }).cause ?? ''),
        causeStack: ((error as { cause?: { stack?: string } }).cause?.stack) ?? '', json: JSON.stringify(error),
    })

    for (const [label, bad] of [['CR/LF', '\r\nX-Evil: 1'], ['NUL', '\u0000'], ['non-Latin-1', '\u2603']] as const) {
        it(`a key with ${label} is LOADER_FETCH_BAD_HEADER naming the member, never the value`, async () => {
            const key = `${makeCanary('sk-proj-')}${bad}${makeCanary('')}`
            let hits = 0
            const server: Server = createServer((_req, res) => { hits++; res.end('{}') })
            await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
            cleanup.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => { resolve() }) }))
            const store = await storeWith({ OPENAI_API_KEY: key })
            const error = await caught(store.fetch('openai', `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`))
            expect(isKeyfleetError(error) && error.code).toBe('LOADER_FETCH_BAD_HEADER')
            expect(error.message).toContain('OPENAI_API_KEY')
            expect(leaksOf(key, error)).toEqual([])
            expect(leaksOf(key.slice(0, 40), error)).toEqual([])
            expect(hits).toBe(0)
        })
    }

    it('a bad init.headers is LOADER_FETCH_BAD_HEADER without the header value or a cause', async () => {
        const key = makeCanary('sk-proj-')
        const secret = makeCanary('callers-secret-')
        const store = await storeWith({ OPENAI_API_KEY: key })
        const error = await caught(store.fetch('openai', 'https://127.0.0.1:1/x', { headers: { 'x-mine': `${secret}\nX-Evil: 1` } }))
        expect(isKeyfleetError(error) && error.code).toBe('LOADER_FETCH_BAD_HEADER')
        expect((error as { cause?: unknown }).cause).toBeUndefined()
        expect(leaksOf(secret, error)).toEqual([])
        expect(leaksOf(key, error)).toEqual([])
    })
})
