/**
 * The key manager's lookup rules: hybrid precedence (a real environment variable
 * wins unless empty or a placeholder, then the mounted source), aliases,
 * services, custom catalog secrets, and key pools.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCatalog } from '../../src/catalog/index.js'
import { LoaderCode, openKeys } from '../../src/loader/index.js'
import { cleanupTemp, changeOf, tempDir } from './helpers.js'

afterAll(cleanupTemp)

const OPENAI = 'sk-proj-fromTheMountedFile0000000001'
const OPENAI_ENV = 'sk-proj-fromTheEnvironment000000002'
const CLAUDE = 'sk-ant-api03-' + 'c'.repeat(40)

const source = (text: string): string => {
    const file = join(tempDir(), 'env.secrets')
    writeFileSync(file, text)
    return file
}

describe('hybrid precedence', () => {
    it('a real environment variable wins over the mounted file', async () => {
        await using keys = await openKeys({ path: source(`OPENAI_API_KEY=${OPENAI}\n`), env: { OPENAI_API_KEY: OPENAI_ENV } })
        expect(keys.get('OPENAI_API_KEY')).toBe(OPENAI_ENV)
        expect(keys.get('openai')).toBe(OPENAI_ENV)
    })

    it.each(['', '   ', 'changeme', 'your-openai-api-key-here', '<OPENAI_API_KEY>', '${OPENAI_API_KEY}', 'sk-...', 'xxxx'])(
        'an environment placeholder %j does not override the file', async (placeholder) => {
            await using keys = await openKeys({ path: source(`OPENAI_API_KEY=${OPENAI}\n`), env: { OPENAI_API_KEY: placeholder } })
            expect(keys.get('openai')).toBe(OPENAI)
        })

    it('an environment alias overrides too, and the canonical env name beats the alias', async () => {
        const alias = await openKeys({ path: source(`ANTHROPIC_API_KEY=${CLAUDE}\n`), env: { CLAUDE_API_KEY: 'sk-ant-api03-' + 'e'.repeat(40) } })
        expect(alias.get('claude')).toBe('sk-ant-api03-' + 'e'.repeat(40))
        await alias.close()
        await using both = await openKeys({ env: { CLAUDE_API_KEY: 'sk-ant-api03-' + 'e'.repeat(40), ANTHROPIC_API_KEY: CLAUDE } })
        expect(both.get('claude')).toBe(CLAUDE)
    })

    it('serves environment variables alone when no source is configured, and require says where it looked', async () => {
        await using keys = await openKeys({ env: { GEMINI_API_KEY: 'AIza' + 'g'.repeat(35), HOME: '/root' } })
        expect(keys.source).toMatchObject({ path: undefined, mode: 'none' })
        expect(keys.get('gemini')).toBe('AIza' + 'g'.repeat(35))
        expect(keys.get('HOME')).toBeUndefined()
        expect(keys.names()).toEqual(['GEMINI_API_KEY'])
        expect(() => keys.require('claude')).toThrowError(expect.objectContaining({
            code: LoaderCode.KEY_MISSING,
            message: expect.stringMatching(/ANTHROPIC_API_KEY, CLAUDE_API_KEY .*KEYFLEET_SECRETS_PATH/),
        }))
    })

    it('takes the path from KEYFLEET_SECRETS_PATH in env', async () => {
        await using keys = await openKeys({ env: { KEYFLEET_SECRETS_PATH: source(`OPENAI_API_KEY=${OPENAI}\n`) } })
        expect(keys.require('openai')).toBe(OPENAI)
    })

    it('placeholders and empty values in the source are not served', async () => {
        await using keys = await openKeys({ path: source('OPENAI_API_KEY=changeme\nGEMINI_API_KEY=\n'), env: {} })
        expect(keys.get('openai')).toBeUndefined()
        expect(keys.names()).toEqual([])
        expect(() => keys.require('OPENAI_API_KEY')).toThrowError(expect.objectContaining({ code: LoaderCode.KEY_MISSING }))
    })
})

describe('names, aliases and services', () => {
    it('finds a key by service, canonical name and alias, whichever spelling the source used', async () => {
        await using keys = await openKeys({ path: source(`CLAUDE_API_KEY=${CLAUDE}\nDEEPINFRA_TOKEN=${'d'.repeat(32)}\n`), env: {} })
        for (const name of ['claude', 'ANTHROPIC_API_KEY', 'CLAUDE_API_KEY']) expect(keys.get(name)).toBe(CLAUDE)
        for (const name of ['deepinfra', 'DEEPINFRA_API_KEY', 'DEEPINFRA_TOKEN']) expect(keys.get(name)).toBe('d'.repeat(32))
        expect(keys.names()).toEqual(['ANTHROPIC_API_KEY', 'DEEPINFRA_API_KEY'])
        expect(keys.hint('claude')).toBe('claude, 53 chars, …cccc')
    })

    it('uses a custom catalog for custom services', async () => {
        const { catalog, problems } = parseCatalog([
            'version: 1',
            'environments: [dev]',
            'providers:',
            '  openai: { env: OPENAI_API_KEY }',
            'custom:',
            '  ACME_LLM_TOKEN: { service: acme, aliases: [ACME_TOKEN] }',
        ].join('\n'), 'keyfleet.yaml')
        expect(problems).toEqual([])
        await using keys = await openKeys({ path: source('ACME_TOKEN=acme-1234567890\n'), env: {}, catalog })
        expect(keys.get('acme')).toBe('acme-1234567890')
        expect(keys.get('ACME_LLM_TOKEN')).toBe('acme-1234567890')
    })

    it('names the keys that changed, never values, and nothing when an override hides the change', async () => {
        const file = source(`OPENAI_API_KEY=${OPENAI}\nGEMINI_API_KEY=${'AIza' + 'a'.repeat(35)}\n`)
        await using keys = await openKeys({ path: file, env: { OPENAI_API_KEY: OPENAI_ENV } })
        const events: unknown[] = []
        keys.on('change', (e) => events.push(e))
        const change = changeOf(keys, 'GEMINI_API_KEY')
        writeFileSync(file, `OPENAI_API_KEY=${OPENAI}x\nGEMINI_API_KEY=${'AIza' + 'b'.repeat(35)}\n`)
        await change
        expect(events).toEqual([{ names: ['GEMINI_API_KEY'], generation: 2, deployed: keys.deployed }])
    })
})

describe('key pools', () => {
    const pool = `OPENAI_API_KEY=${OPENAI}\nOPENAI_API_KEY_2=sk-proj-second00000000000000000002\nOPENAI_API_KEY_3=sk-proj-third000000000000000000003\n`

    it('round-robins the service over the pool; exact names stay exact', async () => {
        await using keys = await openKeys({ path: source(pool), env: {} })
        const got = Array.from({ length: 6 }, () => keys.pick('openai')?.name)
        expect(got).toEqual(['OPENAI_API_KEY', 'OPENAI_API_KEY_2', 'OPENAI_API_KEY_3', 'OPENAI_API_KEY', 'OPENAI_API_KEY_2', 'OPENAI_API_KEY_3'])
        expect(keys.get('OPENAI_API_KEY_2')).toBe('sk-proj-second00000000000000000002')
        expect(keys.get('OPENAI_API_KEY')).toBe(OPENAI)
    })

    it('takes a failing key out for its cool-down, then back in', async () => {
        await using keys = await openKeys({ path: source(pool), env: {} })
        const bad = keys.pick('openai')
        expect(bad?.name).toBe('OPENAI_API_KEY')
        expect(keys.reportFailure(bad!, { cooldownMs: 50 })).toBe(true)
        const during = Array.from({ length: 4 }, () => keys.pick('openai')?.name)
        expect(during).not.toContain('OPENAI_API_KEY')
        await new Promise((r) => setTimeout(r, 80))
        const after = Array.from({ length: 3 }, () => keys.pick('openai')?.name)
        expect(after).toContain('OPENAI_API_KEY')
    })

    it('still returns a key when the whole pool is cooling, and refuses non-pool names', async () => {
        await using keys = await openKeys({ path: source(pool + `GEMINI_API_KEY=${'AIza' + 'a'.repeat(35)}\n`), env: {} })
        for (const n of ['OPENAI_API_KEY', 'OPENAI_API_KEY_2', 'OPENAI_API_KEY_3']) keys.reportFailure(n, { cooldownMs: 60_000 })
        expect(keys.get('openai')).toBeDefined()
        expect(keys.reportFailure('GEMINI_API_KEY')).toBe(false)
        expect(keys.reportFailure('NOPE')).toBe(false)
    })

    it('keeps a cool-down across an unrelated rotation but drops it when that key is rotated', async () => {
        const file = source(pool)
        await using keys = await openKeys({ path: file, env: {} })
        keys.reportFailure('OPENAI_API_KEY_2', { cooldownMs: 60_000 })
        let change = changeOf(keys, 'OPENAI_API_KEY_3')
        writeFileSync(file, pool.replace('third', 'THIRD'))
        await change
        expect(Array.from({ length: 4 }, () => keys.pick('openai')?.name)).not.toContain('OPENAI_API_KEY_2')
        change = changeOf(keys, 'OPENAI_API_KEY_2')
        writeFileSync(file, pool.replace('third', 'THIRD').replace('second', 'SECOND'))
        await change
        expect(Array.from({ length: 3 }, () => keys.pick('openai')?.name)).toContain('OPENAI_API_KEY_2')
    })
})
