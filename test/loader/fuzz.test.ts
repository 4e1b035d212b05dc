/**
 * Fuzzed sources: random bytes, truncations and bit flips of dotenv, JSON,
 * SOPS and age files. The loader must never crash (only typed LOADER_ errors)
 * and never put a value, whole or encoded, into an error message or cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { execFileSync } from 'node:child_process'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateIdentity, seal } from '../../src/age/index.js'
import { isKeyfleetError } from '../../src/errors.js'
import { openKeys } from '../../src/loader/index.js'
import { openBundle, openSops } from '../../src/loader/decrypt.js'
import { readSource } from '../../src/loader/read-source.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { sopsPath } from '../helpers/tools.js'
import { cleanupTemp, tempDir, turn } from './helpers.js'

afterAll(cleanupTemp)

const canary = makeCanary()
let identity = ''
let sopsText = ''
let ageText = ''

beforeAll(async () => {
    const id = await generateIdentity()
    identity = id.identity
    const dir = tempDir('fuzz')
    writeFileSync(join(dir, 'plain.env'), `OPENAI_API_KEY=${canary}\nGEMINI_API_KEY=AIza${'z'.repeat(35)}\n`, { mode: 0o600 })
    sopsText = execFileSync(sopsPath(), ['encrypt', '--age', id.recipient, '--input-type', 'dotenv', '--output-type', 'dotenv', join(dir, 'plain.env')], {
        encoding: 'utf8', cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    ageText = await seal(JSON.stringify({ keyfleet: 'bundle/v1', environment: 'dev', agent: 'a', generation: '1', keys: { OPENAI_API_KEY: canary } }), [id.recipient])
})

/** Every message in an error and its cause chain. */
const messages = (error: unknown): string => {
    let out = ''
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) out += `${e.message}\n${String((e as { file?: unknown }).file ?? '')}\n`
    return out
}

const texts = (): fc.Arbitrary<string | Uint8Array> => fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.string({ maxLength: 200 }).map((s) => `OPENAI_API_KEY=${canary}\n${s}`),
    fc.string({ maxLength: 200 }).map((s) => `${s}\nOPENAI_API_KEY="${canary}`),
    fc.nat().map((n) => JSON.stringify({ OPENAI_API_KEY: canary, X: 1 }).slice(0, n % 60)),
    fc.constantFrom(`{"OPENAI_API_KEY": ${JSON.stringify(canary)}, "N": 5}`, `{"keyfleet":"bundle/v1","keys":[${JSON.stringify(canary)}]}`, `[${JSON.stringify(canary)}]`),
    fc.nat().map((n) => sopsText.slice(0, n % (sopsText.length + 1))),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
        const bytes = Buffer.from(sopsText)
        const i = at % bytes.length
        bytes[i] = (bytes[i] as number) ^ x
        return new Uint8Array(bytes)
    }),
    fc.nat().map((n) => ageText.slice(0, n % (ageText.length + 1))),
)

/** Runs one source through the same steps the store does. */
const load = async (file: string): Promise<void> => {
    const raw = readSource(file)
    if (raw.kind === 'sops') await openSops(raw.text, raw.store, { identity }, file)
    else if (raw.kind === 'age-bundle') await openBundle(raw.bytes, { identity }, file)
}

describe('fuzzed sources', () => {
    it('never crash and never leak a value into an error', async () => {
        const dir = tempDir('fuzz')
        const file = join(dir, 'env.secrets')
        let failures = 0
        await fc.assert(fc.asyncProperty(texts(), async (content) => {
            writeFileSync(file, content)
            try {
                await load(file)
            } catch (error) {
                failures++
                expect(isKeyfleetError(error) && error.code.startsWith('LOADER_')).toBe(true)
                expect(findLeaks(canary, { error: messages(error) })).toEqual([])
            }
        }), { numRuns: 400 })
        expect(failures).toBeGreaterThan(0)
    })

    it('a live store keeps serving through a stream of garbage, and its events carry no value', async () => {
        const dir = tempDir('fuzz')
        const file = join(dir, 'env.secrets')
        writeFileSync(file, sopsText)
        await using keys = await openKeys({ path: file, identity, env: {}, settleMs: 0 })
        expect(keys.get('openai')).toBe(canary)
        const seen: string[] = []
        keys.on('error', (e) => { seen.push(messages(e)) })
        keys.on('change', (e) => { seen.push(JSON.stringify(e)) })
        await fc.assert(fc.asyncProperty(texts(), async (content) => {
            writeFileSync(`${file}.tmp`, content)
            renameSync(`${file}.tmp`, file)
            for (let i = 0; i < 3; i++) await turn()
            const value = keys.get('openai')
            expect(value === undefined || typeof value === 'string').toBe(true)
        }), { numRuns: 100 })
        expect(findLeaks(canary, { events: seen.join('\n') })).toEqual([])
        expect(seen.length).toBeGreaterThan(0)
    })
})
