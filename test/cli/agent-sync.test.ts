/**
 * `keyfleet agent sync` as a real process (the built CLI) against Debian's
 * nginx: DIR gets the Secret-volume shape (`..data` link, 0400 files) that
 * keyfleet's own loader reads as a volume, a new bundle swaps in and runs
 * --exec (with KEYFLEET_SECRETS_PATH, never a value), a forged bundle is
 * refused once and DIR stays; a restart with the server gone starts from the
 * encrypted cache. `agent init` prints the recipient and the sync command.
 * Nothing the process printed or cached holds a value.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { lstatSync, mkdirSync, mkdtempSync, rmSync, readFileSync, readlinkSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openKeys } from '../../src/loader/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { keyfleet } from '../helpers/cli.js'
import { repoRoot } from '../helpers/tools.js'
import { makeFleet, startNginx, type Fleet, type Nginx } from '../loader/remote-servers.js'

const CLI = join(repoRoot, 'dist', 'cli', 'main.js')
let nginx: Nginx
let fleet: Fleet
const base = mkdtempSync(join(tmpdir(), 'kf-sync-'))
let mtime = Math.floor(Date.now() / 1000)
const publish = (text: string): void => {
    const file = join(nginx.www, 'web.bundle')
    writeFileSync(file, text)
    mtime += 10
    utimesSync(file, mtime, mtime)
}
const until = async (what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> => {
    const end = Date.now() + timeoutMs
    while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 25))
    }
}
const read = (p: string): string => { try { return readFileSync(p, 'utf8') } catch { return '' } }

interface Sync { child: ChildProcess; stderr: () => string; stop: () => Promise<number | null> }
const startSync = (out: string, cache: string, extra: string[] = [], env: Record<string, string> = {}): Sync => {
    writeFileSync(join(base, 'signing.pub'), fleet.signingPub)
    writeFileSync(join(base, 'host.agekey'), `${fleet.identity}\n`, { mode: 0o600 })
    const child = spawn(process.execPath, [CLI, 'agent', 'sync', `${nginx.origin}/web.bundle`, '--out', out, '--poll', '0.2', '--signing-key-file', join(base, 'signing.pub'), '--identity-file', join(base, 'host.agekey'), '--cache-dir', cache, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: base, ...env } })
    let err = ''
    child.stderr?.on('data', (c: Buffer) => { err += c.toString('utf8') })
    child.stdout?.on('data', (c: Buffer) => { err += c.toString('utf8') })
    return { child, stderr: () => err, stop: () => new Promise((r) => { child.once('exit', (code) => { r(code) }); child.kill('SIGTERM') }) }
}

beforeAll(async () => { nginx = await startNginx(); fleet = await makeFleet() })
afterAll(async () => { await nginx.stop() })

describe('keyfleet agent sync', () => {
    it('keeps DIR a Secret volume the loader reads, swaps new bundles in, runs --exec, refuses a forged one', async () => {
        const [v1, v2, forged] = [makeCanary(), makeCanary(), makeCanary()]
        publish((await fleet.bundle({ OPENAI_API_KEY: v1, ANTHROPIC_API_KEY: 'sk-ant-placeholder-not-secret-0000' })).text)
        const out = join(base, 'keys')
        const cache = join(base, 'cache')
        const marker = join(base, 'exec.log')
        const sync = startSync(out, cache, ['--exec', `echo "reload $KEYFLEET_SECRETS_PATH" >> ${marker}`])
        try {
            await until('the first key file', () => read(join(out, 'OPENAI_API_KEY')) === v1)
            expect(lstatSync(join(out, '..data')).isSymbolicLink()).toBe(true)
            const data = readlinkSync(join(out, '..data'))
            expect(statSync(join(out, data, 'OPENAI_API_KEY')).mode & 0o777).toBe(0o400)
            expect(readlinkSync(join(out, 'OPENAI_API_KEY'))).toBe('..data/OPENAI_API_KEY')
            const keys = await openKeys({ path: out, env: {} })
            expect(keys.get('openai')).toBe(v1)
            expect(keys.source.kind).toBe('directory')
            const changed = new Promise((r) => keys.on('change', r))
            publish((await fleet.bundle({ OPENAI_API_KEY: v2 })).text)
            await changed
            expect(keys.get('openai')).toBe(v2)
            expect(keys.get('ANTHROPIC_API_KEY')).toBeUndefined()
            // The kubelet's order: ..data swaps first, then stale per-key links go.
            await until('the stale link removed', () => readdirSync(out).filter((n) => !n.startsWith('.')).join() === 'OPENAI_API_KEY')
            await until('--exec', () => read(marker).includes(`reload ${out}`))
            await keys.close()
            publish((await fleet.bundle({ OPENAI_API_KEY: forged }, { signer: (await makeFleet()).signing })).text)
            await until('the refusal', () => sync.stderr().includes('LOADER_BUNDLE_WRONG_SIGNER'))
            const before = nginx.log().length
            await until('more polls', () => nginx.log().length > before + 4)
            expect(sync.stderr().split('LOADER_BUNDLE_WRONG_SIGNER').length - 1).toBe(1)
            expect(read(join(out, 'OPENAI_API_KEY'))).toBe(v2)
        } finally {
            expect(await sync.stop()).not.toBeNull()
        }
        // Offline restart: nginx gone, the cache alone fills a fresh DIR.
        await nginx.stop()
        const fresh = join(base, 'keys-offline')
        const offline = startSync(fresh, cache)
        try {
            await until('the cached key file', () => read(join(fresh, 'OPENAI_API_KEY')) === v2)
            await until('the unavailable report', () => offline.stderr().includes('LOADER_REMOTE_UNAVAILABLE'))
        } finally {
            await offline.stop()
            await nginx.restart()
        }
        const cached: Record<string, Buffer> = {}
        for (const f of readdirSync(cache)) cached[f] = readFileSync(join(cache, f))
        for (const v of [v1, v2, forged]) expect(findLeaks(v, { stderr: sync.stderr() + offline.stderr(), marker: read(marker), ...cached })).toEqual([])
    }, 120_000)

    it('carries the bundle\'s generation and pool weights into DIR and its status, as render wrote them', async () => {
        const [k1, k2] = [makeCanary(), makeCanary()]
        const weights = { OPENAI_API_KEY_2: 3 }
        const made = await fleet.bundle({ OPENAI_API_KEY: k1, OPENAI_API_KEY_2: k2 }, { weights })
        publish(made.text)
        const out = join(base, 'keys-weights')
        const sync = startSync(out, join(base, 'cache-weights'), ['--status-port', '0'])
        try {
            await until('the key files', () => read(join(out, 'OPENAI_API_KEY_2')) === k2)
            expect(JSON.parse(read(join(out, '.keyfleet-generation')))).toEqual({ environment: 'prod', agent: 'web', generation: made.generation, weights })
            const keys = await openKeys({ path: out, env: {} })
            try {
                expect(keys.deployed).toMatchObject({ generation: made.generation, verified: true, weights })
                const member = keys.stats().services.find((s) => s.service === 'openai')?.members.find((m) => m.name === 'OPENAI_API_KEY_2')
                expect(member).toMatchObject({ weight: 3, weightFrom: 'deployment' })
            } finally {
                await keys.close()
            }
            await until('the status url', () => /status at http:\/\/\S+/.test(sync.stderr()))
            const url = /status at (http:\/\/\S+)/.exec(sync.stderr())?.[1] as string
            const status = await (await fetch(url)).json() as { deployed: { generation: string; verified: boolean } }
            expect(status.deployed).toMatchObject({ generation: made.generation, verified: true })
        } finally {
            await sync.stop()
        }
        for (const v of [k1, k2]) expect(findLeaks(v, { stderr: sync.stderr(), generation: read(join(out, '.keyfleet-generation')) })).toEqual([])
    }, 120_000)

    it('a bundle that cannot be written to DIR is retried on the next poll, not called current', async () => {
        const [v1, v2] = [makeCanary(), makeCanary()]
        publish((await fleet.bundle({ OPENAI_API_KEY: v1 })).text)
        const out = join(base, 'keys-retry')
        const sync = startSync(out, join(base, 'cache-retry'))
        try {
            await until('the first key file', () => read(join(out, 'OPENAI_API_KEY')) === v1)
            // A directory where the swap link goes: rm (force, not recursive) refuses it, so the write fails.
            mkdirSync(join(out, '..data_tmp', 'x'), { recursive: true })
            publish((await fleet.bundle({ OPENAI_API_KEY: v2 })).text)
            await until('the apply failure', () => sync.stderr().includes('LOADER_APPLY_FAILED'))
            const before = nginx.log().length
            await until('more polls', () => nginx.log().length > before + 4)
            expect(read(join(out, 'OPENAI_API_KEY'))).toBe(v1)
            expect(sync.stderr().split('LOADER_APPLY_FAILED').length - 1).toBe(1)
            rmSync(join(out, '..data_tmp'), { recursive: true })
            await until('the retried bundle', () => read(join(out, 'OPENAI_API_KEY')) === v2)
        } finally {
            await sync.stop()
        }
        for (const v of [v1, v2]) expect(findLeaks(v, { stderr: sync.stderr() })).toEqual([])
    }, 120_000)

    it('--once exits non-zero when DIR could not be written', async () => {
        publish((await fleet.bundle({ OPENAI_API_KEY: makeCanary() })).text)
        const out = join(base, 'keys-once')
        mkdirSync(join(out, '..data_tmp', 'x'), { recursive: true })
        const once = startSync(out, join(base, 'cache-once'), ['--once'])
        const code = await new Promise((r) => once.child.once('exit', r))
        expect(once.stderr()).toContain('LOADER_APPLY_FAILED')
        expect(code).toBe(2)
        rmSync(join(out, '..data_tmp'), { recursive: true })
        const again = startSync(out, join(base, 'cache-once'), ['--once'])
        expect(await new Promise((r) => again.child.once('exit', r))).toBe(0)
    }, 120_000)

    it('--exec never gets the channel token or where it is kept', async () => {
        const token = makeCanary()
        const tokenFile = join(base, 'channel-token')
        writeFileSync(tokenFile, token, { mode: 0o600 })
        publish((await fleet.bundle({ OPENAI_API_KEY: makeCanary() })).text)
        const out = join(base, 'keys-exec')
        const marker = join(base, 'exec-env.log')
        const sync = startSync(out, join(base, 'cache-exec'), ['--exec', `env > ${marker}`], { KEYFLEET_SECRETS_TOKEN: token, KEYFLEET_SECRETS_TOKEN_FILE: tokenFile })
        try {
            await until('the first key file', () => read(join(out, 'OPENAI_API_KEY')) !== '')
            publish((await fleet.bundle({ OPENAI_API_KEY: makeCanary() })).text)
            await until('--exec', () => read(marker).includes('KEYFLEET_SECRETS_PATH='))
        } finally {
            await sync.stop()
        }
        expect(read(marker)).not.toContain('KEYFLEET_SECRETS_TOKEN')
        expect(read(marker)).not.toContain(tokenFile)
        expect(findLeaks(token, { env: read(marker), stderr: sync.stderr() })).toEqual([])
    }, 120_000)

    it('agent init prints the recipient on stdout and the register and sync commands on stderr', async () => {
        const home = mkdtempSync(join(tmpdir(), 'kf-init-home-'))
        const r = await keyfleet(['agent', 'init', '--env', 'prod', '--name', 'bob-laptop', '--repo', 'acme/fleet'], { cwd: home, env: { HOME: home } })
        expect(r.code).toBe(0)
        expect(r.stdout).toMatch(/^age1[0-9a-z]+\n$/)
        expect(r.stderr).toContain(`keyfleet agent register prod bob-laptop --recipient ${r.stdout.trim()}`)
        // Quoted (zsh globs `?`), and signing.pub next to the identity, as docs/hosts.md says.
        expect(r.stderr).toContain("keyfleet agent sync 'https://api.github.com/repos/acme/fleet/contents/prod/bob-laptop.bundle?ref=keyfleet/bundles'")
        expect(r.stderr).toContain(`--signing-key-file ${join(home, '.config', 'keyfleet', 'signing.pub')} --identity-file ${join(home, '.config', 'keyfleet', 'agent.agekey')}`)
        const etc = mkdtempSync(join(tmpdir(), 'kf-init-etc-'))
        const system = await keyfleet(['agent', 'init', '--out', join(etc, 'agent.agekey')], { cwd: home, env: { HOME: home } })
        expect(system.stderr).toContain(`--signing-key-file ${join(etc, 'signing.pub')} --identity-file ${join(etc, 'agent.agekey')}`)
        expect(r.stderr).not.toContain('AGE-SECRET-KEY')
    })
})
