/**
 * src/loader/store-read.ts, the read seam split out of store.ts: one read of a local source says
 * missing, unchanged (same fingerprint) or read, with what the source declares about its render.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/loader/options.js'
import { readLocal } from '../../src/loader/store-read.js'
import { cleanupTemp, tempDir } from './helpers.js'

afterAll(cleanupTemp)
const KEY = `sk-proj-${'R'.repeat(40)}`
const pause = (): Promise<boolean> => Promise.resolve(true)

describe('readLocal', () => {
    it('reports a missing path, reads a directory with its claim and weights, then sees it unchanged', async () => {
        const dir = join(tempDir('store-read'), 'keys')
        const options = resolveOptions({ path: dir, env: {}, persistent: false })
        expect(await readLocal(dir, options, undefined, pause, () => false)).toEqual({ status: 'missing' })
        mkdirSync(dir)
        writeFileSync(join(dir, 'OPENAI_API_KEY'), KEY)
        writeFileSync(join(dir, '.keyfleet-generation'), '{"environment":"dev","agent":"bot","generation":"0123456789abcdef","weights":{"OPENAI_API_KEY":2}}\n')
        const read = await readLocal(dir, options, undefined, pause, () => false)
        if (read.status !== 'read') throw new Error(read.status)
        expect(read.kind).toBe('directory')
        expect([...read.entries]).toEqual([['OPENAI_API_KEY', KEY]])
        expect(read.claim).toEqual({ environment: 'dev', agent: 'bot', generation: '0123456789abcdef', weights: { OPENAI_API_KEY: 2 } })
        expect(await readLocal(dir, options, read.fingerprint, pause, () => false)).toEqual({ status: 'unchanged' })
        expect(await readLocal(dir, options, undefined, pause, () => true)).toEqual({ status: 'closed' })
    })
})
