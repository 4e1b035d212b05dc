/**
 * A Secret volume swapped during every attempt to read it (issue 7, "a reader
 * never sees a mix of the old and new key sets"). The loader re-reads while
 * `..data` moves; when it moves on every attempt, the per-key links may point
 * into two payloads at once, so the read must fail (transiently) instead of
 * falling back to them, and the store must keep its last good snapshot.
 *
 * Real churn that outruns eight attempts cannot be produced on demand, so
 * `readlinkSync` is wrapped: while `churning` is set, each read of `..data`
 * answers with the other of two complete payload directories.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import * as fs from 'node:fs'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { LoaderCode, isKeyfleetError, openKeys } from '../../src/loader/index.js'
import { readSource } from '../../src/loader/read-source.js'
import { cleanupTemp, nextEvent, tempDir, turn, untilValue } from './helpers.js'

const churn = vi.hoisted(() => ({ on: false, flip: 0 }))

vi.mock('node:fs', async (importOriginal) => {
    const actual = await importOriginal<typeof import('node:fs')>()
    const readlinkSync = ((path: fs.PathLike, options?: unknown) => {
        if (churn.on && String(path).endsWith('/..data')) return (churn.flip++ % 2 === 0 ? '..gen_a' : '..gen_b')
        return actual.readlinkSync(path, options as fs.EncodingOption)
    }) as typeof actual.readlinkSync
    return { ...actual, readlinkSync, default: { ...actual, readlinkSync } }
})

afterAll(cleanupTemp)
afterEach(() => { churn.on = false })

const A = { OPENAI_API_KEY: 'sk-proj-generation-A-aaaaaaaaaaaaaaaa', ANTHROPIC_API_KEY: 'sk-ant-api03-generation-A-aaaaaaaaaaaaaaaaaaaaaaaa' }
const B = { OPENAI_API_KEY: 'sk-proj-generation-B-bbbbbbbbbbbbbbbb', ANTHROPIC_API_KEY: 'sk-ant-api03-generation-B-bbbbbbbbbbbbbbbbbbbbbbbb' }

/**
 * A kubelet-layout volume caught mid-swap: `..data` → `..gen_a`, both payload
 * directories complete, and the per-key links split between them (what the
 * links resolve to while the kubelet is relinking under heavy churn).
 */
const mixedVolume = (): string => {
    const dir = join(tempDir('dir-churn', { tmpfs: true }), 'keys')
    for (const [gen, payload] of [['..gen_a', A], ['..gen_b', B]] as const) {
        mkdirSync(join(dir, gen), { recursive: true })
        for (const [name, value] of Object.entries(payload)) writeFileSync(join(dir, gen, name), value)
    }
    symlinkSync('..gen_a', join(dir, '..data'))
    symlinkSync(join('..gen_a', 'OPENAI_API_KEY'), join(dir, 'OPENAI_API_KEY'))
    symlinkSync(join('..gen_b', 'ANTHROPIC_API_KEY'), join(dir, 'ANTHROPIC_API_KEY'))
    return dir
}

describe('a volume swapped during every read attempt', () => {
    it('readSource fails transiently instead of returning the per-key links\' mix', () => {
        const dir = mixedVolume()
        churn.on = true
        let thrown: unknown
        try {
            readSource(dir)
        } catch (error) {
            thrown = error
        }
        expect(isKeyfleetError(thrown) && thrown.code).toBe(LoaderCode.SOURCE_UNREADABLE)
        expect(String((thrown as Error).message)).toContain(basename(dir))
        churn.on = false
        // Without churn the same volume reads whole, from the payload `..data` names.
        const raw = readSource(dir)
        expect(raw.kind === 'directory' && Object.fromEntries(raw.entries)).toEqual(A)
    })

    it('the store keeps serving one whole generation, reports the problem, and recovers when the churn stops', async () => {
        const dir = mixedVolume()
        await using keys = await openKeys({ path: dir, env: {}, settleMs: 5, pollIntervalMs: 20 })
        expect(keys.get('openai')).toBe(A.OPENAI_API_KEY)
        expect(keys.get('claude')).toBe(A.ANTHROPIC_API_KEY)
        const pairs = new Set<string>()
        let reading = true
        const reader = (async () => {
            while (reading) { pairs.add(`${keys.get('openai')} ${keys.get('claude')}`); await turn() }
        })()
        churn.on = true
        const failed = nextEvent(keys, 'error')
        writeFileSync(join(dir, '.touch'), '') // a directory event: the store re-reads
        const error = await failed
        expect(error.code).toBe(LoaderCode.SOURCE_UNREADABLE)
        expect(keys.get('openai')).toBe(A.OPENAI_API_KEY)
        expect(keys.get('claude')).toBe(A.ANTHROPIC_API_KEY)
        // The churn ends with `..data` on generation B; the retry timer picks it up.
        fs.rmSync(join(dir, '..data'))
        symlinkSync('..gen_b', join(dir, '..data'))
        churn.on = false
        await untilValue(keys, 'openai', B.OPENAI_API_KEY)
        await turn()
        reading = false
        await reader
        expect(keys.get('claude')).toBe(B.ANTHROPIC_API_KEY)
        expect(keys.source.problem).toBeUndefined()
        expect([...pairs].sort()).toEqual([`${A.OPENAI_API_KEY} ${A.ANTHROPIC_API_KEY}`, `${B.OPENAI_API_KEY} ${B.ANTHROPIC_API_KEY}`])
    })
})
