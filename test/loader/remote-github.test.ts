/**
 * Where GitHub itself is the subject: a small fake of the contents API
 * (GET /repos/OWNER/REPO/contents/PATH?ref=BRANCH with the
 * `application/vnd.github.raw` media type, a quoted ETag, 304 on If-None-Match, 403
 * with `x-ratelimit-remaining: 0` when the rate limit is spent), and a raw
 * TCP server that cuts a download short — which no real server does on purpose.
 */
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcp } from 'node:net'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openKeys } from '../../src/loader/index.js'
import type { KeyfleetError } from '../../src/errors.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { makeFleet, type Fleet } from './remote-servers.js'

const until = async (what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> => {
    const end = Date.now() + timeoutMs
    while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 20))
    }
}

let fleet: Fleet
const TOKEN = `github_pat_CANARY${'y'.repeat(30)}`
const state = { body: '', spent: false, requests: [] as { accept: string | undefined; auth: string | undefined; inm: string | undefined; status: number; url: string }[] }
const github = createHttp((req: IncomingMessage, res: ServerResponse) => {
    const record = (status: number): void => { state.requests.push({ accept: req.headers.accept, auth: req.headers.authorization, inm: req.headers['if-none-match'], status, url: req.url ?? '' }) }
    if (!/^\/repos\/acme\/fleet\/contents\/prod\/web\.bundle\?ref=keyfleet%2Fbundles$/.test(req.url ?? '') || req.headers.authorization !== `Bearer ${TOKEN}`) { record(404); res.writeHead(404).end('{"message":"Not Found"}'); return }
    if (state.spent) { record(403); res.writeHead(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 2) }).end('{"message":"API rate limit exceeded"}'); return }
    const etag = `"${createHash('sha1').update(state.body).digest('hex')}"`
    if (req.headers['if-none-match'] === etag) { record(304); res.writeHead(304, { etag }).end(); return }
    if (req.headers.accept !== 'application/vnd.github.raw') { record(200); res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify({ content: Buffer.from(state.body).toString('base64'), encoding: 'base64' })); return }
    record(200)
    res.writeHead(200, { 'content-type': 'application/vnd.github.raw', etag }).end(state.body)
})
let cut = 0
const tcp = createTcp((socket) => {
    socket.once('data', () => {
        cut++
        const body = state.body
        socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\netag: "t${cut}"\r\n\r\n${body.slice(0, Math.floor(body.length / 2))}`)
    })
})
let githubUrl = ''
let tcpUrl = ''

beforeAll(async () => {
    fleet = await makeFleet()
    await new Promise<void>((r) => { github.listen(0, '127.0.0.1', r) })
    await new Promise<void>((r) => { tcp.listen(0, '127.0.0.1', r) })
    githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}/repos/acme/fleet/contents/prod/web.bundle?ref=keyfleet%2Fbundles`
    tcpUrl = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/web.bundle`
})
afterAll(() => { github.close(); tcp.close() })

describe('remote source: GitHub contents API and cut-short downloads', () => {
    it('reads the bundles branch through the contents API (raw media type, token, ETag/304) and waits out a spent rate limit', async () => {
        const [v1, v2] = [makeCanary(), makeCanary()]
        state.body = (await fleet.bundle({ OPENAI_API_KEY: v1 })).text
        const errors: KeyfleetError[] = []
        const keys = await openKeys({ url: githubUrl, signingKey: fleet.signingPub, identity: fleet.identity, pollMs: 100, backoffMaxMs: 300, cacheDir: false, env: { KEYFLEET_SECRETS_TOKEN: TOKEN } })
        keys.on('error', (e) => errors.push(e))
        try {
            expect(keys.get('openai')).toBe(v1)
            await until('a 304', () => state.requests.some((r) => r.status === 304))
            expect(state.requests.every((r) => r.accept === 'application/vnd.github.raw' && r.auth === `Bearer ${TOKEN}`)).toBe(true)
            state.spent = true
            await until('a throttled error', () => errors.length > 0)
            const at = state.requests.length
            const t = Date.now()
            await until('the next request', () => state.requests.length > at, 10_000)
            expect(Date.now() - t).toBeGreaterThanOrEqual(500)
            state.spent = false
            const changed = new Promise((r) => keys.on('change', r))
            state.body = (await fleet.bundle({ OPENAI_API_KEY: v2 })).text
            await changed
            expect(keys.get('openai')).toBe(v2)
            expect(errors.map((e) => e.code)).toEqual(['LOADER_REMOTE_THROTTLED'])
            expect(findLeaks(TOKEN, { errors: errors.map((e) => `${e.message} ${String(e.cause)}`).join('\n') })).toEqual([])
            expect(findLeaks(v1, { errors: errors.map((e) => e.message).join('\n') })).toEqual([])
        } finally {
            await keys.close()
        }
    })

    it('a download cut short (Content-Length not met) keeps the last good keys; the problem is reported at start and not again on each retry', async () => {
        const good = makeCanary()
        state.body = (await fleet.bundle({ OPENAI_API_KEY: good })).text
        // Start from the contents fake, then point a second store at the cutting server with the same cache.
        const cacheDir = mkdtempSync(join(tmpdir(), 'kf-cut-'))
        const first = await openKeys({ url: githubUrl, signingKey: fleet.signingPub, identity: fleet.identity, pollMs: 100, cacheDir, env: { KEYFLEET_SECRETS_TOKEN: TOKEN } })
        expect(first.get('openai')).toBe(good)
        await first.close()
        // Same URL key for the cache: copy it under the cutting server's name.
        const [cached] = readdirSync(cacheDir)
        copyFileSync(join(cacheDir, cached as string), join(cacheDir, `${createHash('sha256').update(new URL(tcpUrl).href).digest('hex').slice(0, 24)}.bundle`))
        const errors: KeyfleetError[] = []
        const keys = await openKeys({ url: tcpUrl, signingKey: fleet.signingPub, identity: fleet.identity, pollMs: 100, backoffMaxMs: 200, cacheDir, env: {} })
        keys.on('error', (e) => errors.push(e))
        try {
            expect(keys.get('openai')).toBe(good)
            expect(keys.source.problem?.code).toBe('LOADER_REMOTE_UNAVAILABLE')
            const at = cut
            await until('three more cut downloads', () => cut >= at + 3)
            expect(keys.get('openai')).toBe(good)
            expect(errors).toEqual([])
        } finally {
            await keys.close()
        }
    })
})
