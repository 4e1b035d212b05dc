/**
 * The loader's remote source against Debian's nginx on loopback: ETag/304 on
 * unchanged polls, a new generation swapped in, every refusal (forged,
 * replayed, other agent, unsigned, tampered header) keeping the last good keys
 * with one typed error, the server gone and back, 503 storms, 429 with
 * Retry-After, a cross-origin redirect while a token is configured, and an
 * offline restart from the encrypted cache. Nothing printed or written holds
 * a value or the token (canary search).
 */
import { generationId } from '../../src/render/generation.js'
import { mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openKeys, type KeyStore } from '../../src/loader/index.js'
import type { KeyfleetError } from '../../src/errors.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { makeFleet, removeDir, startNginx, type Fleet, type Nginx } from './remote-servers.js'

const until = async (what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> => {
    const end = Date.now() + timeoutMs
    while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 20))
    }
}

let nginx: Nginx
let fleet: Fleet
const dirs: string[] = []
const tmp = (p: string): string => { const d = mkdtempSync(join(tmpdir(), p)); dirs.push(d); return d }
const canaries: string[] = []
const canary = (): string => { const c = makeCanary(); canaries.push(c); return c }
const TOKEN = `ghp_TOKENCANARY${'x'.repeat(24)}`
const printed: string[] = []

beforeAll(async () => {
    nginx = await startNginx()
    fleet = await makeFleet()
})
afterAll(async () => {
    await nginx.stop()
    // Canary search over everything the loader wrote (caches) and reported (error messages), and nginx's log.
    const cacheFiles: Record<string, Buffer> = {}
    for (const d of dirs) for (const f of readdirSync(d, { recursive: true }) as string[]) {
        const p = join(d, f)
        if (statSync(p).isFile()) cacheFiles[p] = readFileSync(p)
    }
    for (const c of [...canaries, TOKEN]) expect(findLeaks(c, { ...cacheFiles, printed: printed.join('\n') })).toEqual([])
    dirs.forEach(removeDir)
})

// nginx's ETag is mtime-size: two same-size writes within a second would share one. Deploys are
// minutes apart; the test moves the clock on instead (docs/hosts.md says so).
let mtime = Math.floor(Date.now() / 1000)
const publish = (name: string, text: string): void => {
    writeFileSync(join(nginx.www, name), text)
    mtime += 10
    utimesSync(join(nginx.www, name), mtime, mtime)
}
const stores: KeyStore[] = []
afterEach(async () => { for (const s of stores.splice(0)) await s.close() })

const open = async (name: string, extra: Record<string, unknown> = {}): Promise<{ keys: KeyStore; errors: KeyfleetError[] }> => {
    const errors: KeyfleetError[] = []
    const keys = await openKeys({ url: `${nginx.origin}/${name}`, signingKey: fleet.signingPub, identity: fleet.identity, pollMs: 100, backoffMaxMs: 400, cacheDir: tmp('kf-cache-'), env: {}, ...extra })
    stores.push(keys)
    keys.on('error', (e) => { errors.push(e); printed.push(`${e.code} ${e.message}`) })
    if (keys.source.problem) printed.push(keys.source.problem.message)
    return { keys, errors }
}

describe('remote source against nginx', () => {
    it('serves the bundle, polls with If-None-Match (304, a few hundred bytes), swaps in a new generation', async () => {
        const [v1, v2] = [canary(), canary()]
        publish('a.bundle', (await fleet.bundle({ OPENAI_API_KEY: v1 })).text)
        const { keys, errors } = await open('a.bundle')
        expect(keys.get('openai')).toBe(v1)
        expect(keys.source.bundle).toMatchObject({ agent: 'web', environment: 'prod' })
        await until('three 304s', () => nginx.log().filter((l) => l.startsWith('GET /a.bundle 304')).length >= 3)
        const notModified = nginx.log().filter((l) => l.startsWith('GET /a.bundle 304'))
        for (const line of notModified) {
            expect(line).toMatch(/ "W?\/?"[^"]+"" /)
            expect(Number(line.split(' ')[3])).toBeLessThan(400)
        }
        const changed = new Promise((r) => keys.on('change', r))
        publish('a.bundle', (await fleet.bundle({ OPENAI_API_KEY: v2 })).text)
        await changed
        expect(keys.get('openai')).toBe(v2)
        // What a pulled bundle declares reaches keys.deployed (rollout status reads it), checked against its keys.
        expect(keys.deployed).toMatchObject({ environment: 'prod', agent: 'web', generation: generationId([['OPENAI_API_KEY', v2]]), verified: true })
        expect(errors).toEqual([])
        await keys.close()
    })

    it.each([
        ['forged: right recipient, another signer', 'LOADER_BUNDLE_WRONG_SIGNER', async (f: Fleet) => (await f.bundle({ OPENAI_API_KEY: canary() }, { signer: (await makeFleet()).signing })).text],
        ['another agent\'s bundle', 'LOADER_BUNDLE_MISMATCH', async (f: Fleet) => (await f.bundle({ OPENAI_API_KEY: canary() }, { agent: 'batch' })).text],
        ['another environment\'s bundle', 'LOADER_BUNDLE_MISMATCH', async (f: Fleet) => (await f.bundle({ OPENAI_API_KEY: canary() }, { environment: 'dev' })).text],
        ['unsigned age bundle', 'LOADER_BUNDLE_UNSIGNED', async (f: Fleet) => (await f.bundle({ OPENAI_API_KEY: canary() })).text.split('-----BEGIN AGE')[1]!.replace(/^/, '-----BEGIN AGE').split('-----BEGIN SSH')[0]!],
        ['a header changed after signing (issued-at bumped)', 'LOADER_BUNDLE_FORGED', async (f: Fleet) => (await f.bundle({ OPENAI_API_KEY: canary() })).text.replace(/issued-at: \d+/, `issued-at: ${Date.now() + 10 ** 9}`)],
        ['a truncated file (cut before its signature ends)', 'LOADER_BUNDLE_INVALID', async (f: Fleet) => { const t = (await f.bundle({ OPENAI_API_KEY: canary() })).text; return t.slice(0, t.length - 30) }],
    ])('%s: keeps the last good keys and emits one %s', async (_what, code, make) => {
        const good = canary()
        const name = `${code}-${Math.random().toString(36).slice(2)}.bundle`
        publish(name, (await fleet.bundle({ OPENAI_API_KEY: good })).text)
        const { keys, errors } = await open(name)
        expect(keys.get('openai')).toBe(good)
        publish(name, await make(fleet))
        await until(`a ${code} error`, () => errors.length > 0)
        const before = nginx.log().length
        await until('five more polls', () => nginx.log().length >= before + 5)
        expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([expect.stringMatching(new RegExp(`^${code}: `))])
        expect(keys.get('openai')).toBe(good)
        expect(keys.source.problem?.code).toBe(code)
        await keys.close()
    })

    it('refuses a replay of an older signed bundle (rollback), also after a restart from the cache', async () => {
        const [old, current] = [canary(), canary()]
        const older = (await fleet.bundle({ OPENAI_API_KEY: old })).text
        publish('r.bundle', (await fleet.bundle({ OPENAI_API_KEY: current })).text)
        const cacheDir = tmp('kf-cache-')
        const { keys, errors } = await open('r.bundle', { cacheDir })
        expect(keys.get('openai')).toBe(current)
        publish('r.bundle', older)
        await until('a rollback error', () => errors.length > 0)
        expect(errors.map((e) => e.code)).toEqual(['LOADER_BUNDLE_ROLLBACK'])
        expect(keys.get('openai')).toBe(current)
        await keys.close()
        // A restart still holds the newer bundle (from the cache) and refuses the replay again.
        const again = await open('r.bundle', { cacheDir })
        expect(again.keys.get('openai')).toBe(current)
        expect(again.keys.source.problem?.code).toBe('LOADER_BUNDLE_ROLLBACK')
        await again.keys.close()
    })

    it('keeps the keys while the server is gone and through a 503 storm, then takes the next bundle; restarts offline from a 0600 cache', async () => {
        const [v1, v2] = [canary(), canary()]
        publish('g.bundle', (await fleet.bundle({ OPENAI_API_KEY: v1 })).text)
        const cacheDir = tmp('kf-cache-')
        const { keys, errors } = await open('g.bundle', { cacheDir })
        await nginx.stop()
        await until('an unavailable error', () => errors.length > 0)
        await new Promise((r) => setTimeout(r, 1500))
        expect(errors.map((e) => e.code)).toEqual(['LOADER_REMOTE_UNAVAILABLE'])
        expect(keys.get('openai')).toBe(v1)
        // Offline restart: a second store starts from the cache alone.
        const offline = await open('g.bundle', { cacheDir })
        expect(offline.keys.get('openai')).toBe(v1)
        expect(offline.keys.source.problem?.code).toBe('LOADER_REMOTE_UNAVAILABLE')
        await offline.keys.close()
        const [cache] = readdirSync(cacheDir)
        expect(statSync(join(cacheDir, cache as string)).mode & 0o777).toBe(0o600)
        expect(statSync(cacheDir).mode & 0o777).toBe(0o700)
        expect(readFileSync(join(cacheDir, cache as string), 'utf8')).toContain('-----BEGIN AGE ENCRYPTED FILE-----')
        // Back, but answering 503 from its first request (mode set first: a 200 in between would end the episode).
        nginx.mode('503', true)
        const at = nginx.log().length
        await nginx.restart()
        await until('three 503s', () => nginx.log().slice(at).filter((l) => l.includes(' 503 ')).length >= 3)
        expect(keys.get('openai')).toBe(v1)
        nginx.mode('503', false)
        const changed = new Promise((r) => keys.on('change', r))
        publish('g.bundle', (await fleet.bundle({ OPENAI_API_KEY: v2 })).text)
        await changed
        expect(keys.get('openai')).toBe(v2)
        expect(keys.source.problem).toBeUndefined()
        expect(errors.map((e) => e.code)).toEqual(['LOADER_REMOTE_UNAVAILABLE'])
        await keys.close()
    })

    it('429 with Retry-After: one THROTTLED error, and the next request waits as asked', async () => {
        const v1 = canary()
        publish('t.bundle', (await fleet.bundle({ OPENAI_API_KEY: v1 })).text)
        const { keys, errors } = await open('t.bundle')
        nginx.mode('429', true)
        const at = nginx.log().length
        await until('a throttled error', () => errors.length > 0)
        const t429 = Date.now()
        const first = nginx.log().findIndex((l, i) => i >= at && l.includes(' 429 '))
        expect(first).toBeGreaterThanOrEqual(at)
        await until('the request after the 429', () => nginx.log().length > first + 1, 10_000)
        // Retry-After: 2 against a 400 ms backoff cap: the wait is the server's (a lower bound with slack, not a speed claim).
        expect(Date.now() - t429).toBeGreaterThanOrEqual(1500)
        nginx.mode('429', false)
        await until('healthy again', () => keys.source.problem === undefined, 10_000)
        expect(errors.map((e) => e.code)).toEqual(['LOADER_REMOTE_THROTTLED'])
        expect(keys.get('openai')).toBe(v1)
        await keys.close()
    })

    it('sends the token to the configured origin only; a redirect to another origin is refused with one error', async () => {
        const v1 = canary()
        publish('p.bundle', (await fleet.bundle({ OPENAI_API_KEY: v1 })).text)
        // Outside the searched dirs: this file is where the token is meant to be.
        const tokenFile = join(mkdtempSync(join(tmpdir(), 'kf-token-')), 'token')
        writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
        const { keys, errors } = await open('p.bundle', { tokenFile })
        expect(keys.get('openai')).toBe(v1)
        expect(nginx.log().filter((l) => l.includes('/p.bundle')).every((l) => l.endsWith(`"Bearer ${TOKEN}" 127.0.0.1`))).toBe(true)
        nginx.mode('redirect', true)
        const at = nginx.log().length
        await until('a redirect error', () => errors.length > 0)
        await until('more polls', () => nginx.log().slice(at).length >= 3)
        nginx.mode('redirect', false)
        expect(errors.map((e) => e.code)).toEqual(['LOADER_REMOTE_REDIRECT'])
        // The redirect target (localhost, the same nginx under another origin) was never asked, with or without the token.
        const after = nginx.log().slice(at).filter((l) => l.includes('/p.bundle'))
        expect(after.some((l) => l.includes(' 302 '))).toBe(true)
        expect(after.filter((l) => l.endsWith(' localhost'))).toEqual([])
        expect(keys.get('openai')).toBe(v1)
        for (const e of errors) printed.push(JSON.stringify({ ...e, message: e.message }))
        await keys.close()
    })
})
