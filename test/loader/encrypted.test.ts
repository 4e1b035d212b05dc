/**
 * Encrypted sources decrypted in process: SOPS files (written by the pinned
 * sops binary, and published vectors) and age-encrypted keyfleet bundles.
 * A half-written or tampered file fails its MAC/AEAD: the last good keys stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateIdentity, seal } from '../../src/age/index.js'
import { LoaderCode, openKeys } from '../../src/loader/index.js'
import { sopsPath, vector } from '../helpers/tools.js'
import { changeOf, cleanupTemp, nextEvent, tempDir } from './helpers.js'

afterAll(cleanupTemp)

const OLD = 'sk-proj-sopsOLDsopsOLDsopsOLDsops0001'
const NEW = 'sk-proj-sopsNEWsopsNEWsopsNEWsops0002'

let identity = ''
let recipient = ''
beforeAll(async () => {
    ({ identity, recipient } = await generateIdentity())
})

/** Encrypts a dotenv text with the real sops binary (value via a temp plaintext file in a private dir). */
const sopsEncrypt = (dir: string, plaintext: string): string => {
    const plain = join(dir, 'plain.env')
    writeFileSync(plain, plaintext, { mode: 0o600 })
    return execFileSync(sopsPath(), ['encrypt', '--age', recipient, '--input-type', 'dotenv', '--output-type', 'dotenv', plain], {
        // cwd outside the repo: its .sops.yaml creation rules must not apply to test files.
        encoding: 'utf8', cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
    })
}

describe('SOPS sources', () => {
    it('decrypts a published sops-written dotenv vector', async () => {
        const dir = tempDir()
        copyFileSync(vector('sops-age-dotenv', 'secret.enc.env'), join(dir, 'env.secrets'))
        await using keys = await openKeys({ path: join(dir, 'env.secrets'), identityFile: vector('sops-age-dotenv', 'key.txt'), env: {} })
        expect(keys.source.kind).toBe('sops')
        expect(keys.get('secret')).toBe('this is a secret')
        expect(keys.get('another_secret')).toBe('7')
    })

    it('decrypts a published sops-written JSON vector', async () => {
        const dir = tempDir()
        copyFileSync(vector('sops-age-json', 'secret.enc.json'), join(dir, 'secrets.json'))
        await using keys = await openKeys({ path: join(dir, 'secrets.json'), identityFile: vector('sops-age-json', 'key.txt'), env: {} })
        expect(keys.source.kind).toBe('sops')
        expect(keys.names().length).toBeGreaterThan(0)
    })

    it('follows a key rotated with sops, and keeps it through a half-written file (MAC/parse failure)', async () => {
        const dir = tempDir()
        const file = join(dir, 'env.secrets')
        writeFileSync(file, sopsEncrypt(dir, `OPENAI_API_KEY=${OLD}\n`))
        await using keys = await openKeys({ path: file, identity, env: {} })
        expect(keys.get('openai')).toBe(OLD)

        const rotated = sopsEncrypt(dir, `OPENAI_API_KEY=${NEW}\n`)
        const failed = nextEvent(keys, 'error')
        writeFileSync(file, rotated.slice(0, Math.floor(rotated.length * 0.6)))
        const error = await failed
        expect(error.code).toBe(LoaderCode.DECRYPT_FAILED)
        expect(keys.get('openai')).toBe(OLD)
        expect(error.message).not.toContain('ENC[')

        const change = changeOf(keys, 'OPENAI_API_KEY')
        writeFileSync(`${file}.tmp`, rotated)
        renameSync(`${file}.tmp`, file)
        await change
        expect(keys.get('openai')).toBe(NEW)
    })

    it('reports a tampered value as a MAC failure and serves the old key', async () => {
        const dir = tempDir()
        const file = join(dir, 'env.secrets')
        writeFileSync(file, sopsEncrypt(dir, `OPENAI_API_KEY=${OLD}\nGEMINI_API_KEY=${'AIza' + 'q'.repeat(35)}\n`))
        await using keys = await openKeys({ path: file, identity, env: {} })
        const other = sopsEncrypt(dir, `OPENAI_API_KEY=${NEW}\nGEMINI_API_KEY=${'AIza' + 'q'.repeat(35)}\n`)
        // Splice the other file's OPENAI line in: valid ciphertext, wrong data key and MAC.
        const line = (text: string): string => text.split('\n').find((l) => l.startsWith('OPENAI_API_KEY=')) as string
        const failed = nextEvent(keys, 'error')
        writeFileSync(file, readFileSync(file, 'utf8').replace(line(readFileSync(file, 'utf8')), line(other)))
        expect((await failed).code).toBe(LoaderCode.DECRYPT_FAILED)
        expect(keys.get('openai')).toBe(OLD)
    })

    it('says which identity is missing instead of failing silently', async () => {
        const dir = tempDir()
        const file = join(dir, 'env.secrets')
        writeFileSync(file, sopsEncrypt(dir, `OPENAI_API_KEY=${OLD}\n`))
        await using keys = await openKeys({ path: file, env: {} })
        expect(keys.get('openai')).toBeUndefined()
        expect(keys.source.problem?.code).toBe(LoaderCode.NO_IDENTITY)
    })
})

describe('age-encrypted bundles', () => {
    const bundle = (keys: Record<string, string>, generation: string): string => JSON.stringify({
        keyfleet: 'bundle/v1', environment: 'dev', agent: 'support-bot', generation, keys,
    })

    it('opens a bundle with the host identity, follows a re-rendered bundle, rejects a tampered one', async () => {
        const dir = tempDir()
        const file = join(dir, 'support-bot.age')
        writeFileSync(file, await seal(bundle({ ANTHROPIC_API_KEY: 'sk-ant-api03-' + 'o'.repeat(40) }, 'g1'), [recipient]))
        await using keys = await openKeys({ path: file, identity, env: {} })
        expect(keys.source).toMatchObject({ kind: 'age-bundle', bundle: { environment: 'dev', agent: 'support-bot', generation: 'g1' } })
        expect(keys.get('claude')).toBe('sk-ant-api03-' + 'o'.repeat(40))

        const change = changeOf(keys, 'ANTHROPIC_API_KEY')
        writeFileSync(`${file}.tmp`, await seal(bundle({ ANTHROPIC_API_KEY: 'sk-ant-api03-' + 'n'.repeat(40) }, 'g2'), [recipient]))
        renameSync(`${file}.tmp`, file)
        await change
        expect(keys.get('claude')).toBe('sk-ant-api03-' + 'n'.repeat(40))
        expect(keys.source.bundle?.generation).toBe('g2')

        const failed = nextEvent(keys, 'error')
        const armored = readFileSync(file, 'utf8').split('\n')
        armored[2] = (armored[2] as string).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))
        writeFileSync(file, armored.join('\n'))
        expect((await failed).code).toBe(LoaderCode.DECRYPT_FAILED)
        expect(keys.get('claude')).toBe('sk-ant-api03-' + 'n'.repeat(40))
    })

    it('rejects a bundle for another host (wrong identity) with a typed error', async () => {
        const dir = tempDir()
        const file = join(dir, 'bot.age')
        const other = await generateIdentity()
        writeFileSync(file, await seal(bundle({ OPENAI_API_KEY: OLD }, 'g1'), [other.recipient]))
        await using keys = await openKeys({ path: file, identity, env: {} })
        expect(keys.source.problem).toMatchObject({ code: LoaderCode.DECRYPT_FAILED, cause: { code: 'AGE_NO_MATCHING_IDENTITY' } })
        expect(keys.names()).toEqual([])
    })
})
