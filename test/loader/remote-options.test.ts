/**
 * The remote source configured through the environment (KEYFLEET_SECRETS_URL,
 * KEYFLEET_SIGNING_KEY_FILE, KEYFLEET_AGE_KEY_FILE), against nginx, and the
 * option mistakes that must fail loudly before anything is fetched.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openKeys } from '../../src/loader/index.js'
import { makeCanary } from '../helpers/canary.js'
import { makeFleet, startNginx, type Fleet, type Nginx } from './remote-servers.js'

let nginx: Nginx
let fleet: Fleet
const dir = mkdtempSync(join(tmpdir(), 'kf-remote-env-'))
beforeAll(async () => { nginx = await startNginx(); fleet = await makeFleet() })
afterAll(async () => { await nginx.stop() })

describe('remote source options', () => {
    it('works from the environment alone', async () => {
        const value = makeCanary()
        writeFileSync(join(nginx.www, 'env.bundle'), (await fleet.bundle({ OPENAI_API_KEY: value })).text)
        writeFileSync(join(dir, 'signing.pub'), fleet.signingPub)
        writeFileSync(join(dir, 'host.agekey'), `${fleet.identity}\n`, { mode: 0o600 })
        const keys = await openKeys({
            env: { KEYFLEET_SECRETS_URL: `${nginx.origin}/env.bundle`, KEYFLEET_SIGNING_KEY_FILE: join(dir, 'signing.pub'), KEYFLEET_AGE_KEY_FILE: join(dir, 'host.agekey'), KEYFLEET_CACHE_DIR: join(dir, 'cache') },
            persistent: false,
        })
        try {
            expect(keys.get('openai')).toBe(value)
            expect(keys.source).toMatchObject({ path: `${nginx.origin}/env.bundle`, kind: 'age-bundle', mode: 'poll', problem: undefined })
        } finally {
            await keys.close()
        }
    })

    it.each([
        ['no signing key', { url: 'https://example.invalid/b.bundle' }],
        ['a signing key that is not ssh-ed25519', { url: 'https://example.invalid/b.bundle', signingKey: 'ssh-rsa AAAAB3NzaC1yc2E= x' }],
        ['credentials in the URL', { url: 'https://user:pw@example.invalid/b.bundle', signingKey: 'x' }],
        ['a non-HTTP URL', { url: 'file:///etc/passwd', signingKey: 'x' }],
        ['both path and url', { url: 'https://example.invalid/b.bundle', path: '/tmp/x' }],
    ])('refuses %s with LOADER_REMOTE_OPTIONS', async (_what, options) => {
        await expect(openKeys({ env: {}, ...options })).rejects.toMatchObject({ code: 'LOADER_REMOTE_OPTIONS' })
    })

    it('refuses KEYFLEET_SECRETS_PATH and KEYFLEET_SECRETS_URL both set', async () => {
        await expect(openKeys({ env: { KEYFLEET_SECRETS_PATH: '/tmp/x', KEYFLEET_SECRETS_URL: 'https://example.invalid/b', KEYFLEET_SIGNING_KEY: fleet.signingPub } })).rejects.toMatchObject({ code: 'LOADER_REMOTE_OPTIONS' })
    })
})
