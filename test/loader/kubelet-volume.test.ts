/**
 * The headline: a Secret volume updated the kubelet way (rename of
 * `..data`) must be seen every time. Plain fs.watch on the file saw 1 of 100.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { existsSync, lstatSync, readlinkSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { openKeys } from '../../src/loader/index.js'
import { KubeletVolume } from './kubelet.js'
import { cleanupTemp, changeOf, tempDir, turn } from './helpers.js'

afterAll(cleanupTemp)

const key = (n: number): string => `sk-proj-${String(n).padStart(4, '0')}abcdefghijklmnopqrstuvwxyz`

describe('kubelet AtomicWriter helper', () => {
    it('lays out the volume like the kubelet: per-key links into ..data, one timestamped dir', () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ OPENAI_API_KEY: key(1) })
        vol.write({ OPENAI_API_KEY: key(2), GEMINI_API_KEY: 'AIza' + 'x'.repeat(35) })
        const entries = readdirSync(vol.dir).sort()
        const stamps = entries.filter((e) => /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{1,10}$/.test(e))
        expect(stamps).toHaveLength(1)
        expect(entries).toEqual(['..data', stamps[0], 'GEMINI_API_KEY', 'OPENAI_API_KEY'].sort())
        expect(readlinkSync(join(vol.dir, '..data'))).toBe(stamps[0])
        expect(readlinkSync(join(vol.dir, 'OPENAI_API_KEY'))).toBe(join('..data', 'OPENAI_API_KEY'))
        expect(lstatSync(join(vol.dir, '..data')).isSymbolicLink()).toBe(true)
        expect(existsSync(join(vol.dir, '..data_tmp'))).toBe(false)
        expect(vol.write({ OPENAI_API_KEY: key(2), GEMINI_API_KEY: 'AIza' + 'x'.repeat(35) })).toBe(false)
    })
})

describe('openKeys on a Secret volume', () => {
    it('sees 100 of 100 kubelet swaps', async () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ OPENAI_API_KEY: key(0), ANTHROPIC_API_KEY: 'sk-ant-api03-' + 'a'.repeat(40) })
        await using keys = await openKeys({ path: vol.dir, env: {} })
        expect(keys.get('openai')).toBe(key(0))
        expect(keys.names()).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'])
        const first = keys.generation
        let seen = 0
        for (let i = 1; i <= 100; i++) {
            const change = changeOf(keys, 'OPENAI_API_KEY')
            await vol.writeAsync({ OPENAI_API_KEY: key(i), ANTHROPIC_API_KEY: 'sk-ant-api03-' + 'a'.repeat(40) }, turn)
            const event = await change
            expect(event.names).toEqual(['OPENAI_API_KEY'])
            if (keys.get('OPENAI_API_KEY') === key(i)) seen++
        }
        expect(seen).toBe(100)
        expect(keys.generation).toBe(first + 100)
    })

    it('follows keys added and removed from the Secret', async () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ OPENAI_API_KEY: key(1) })
        await using keys = await openKeys({ path: vol.dir, env: {} })
        const added = changeOf(keys, 'FIREWORKS_API_KEY')
        vol.write({ OPENAI_API_KEY: key(1), FIREWORKS_API_KEY: 'fw_' + 'b'.repeat(24) })
        expect((await added).names).toEqual(['FIREWORKS_API_KEY'])
        expect(keys.get('fireworks')).toBe('fw_' + 'b'.repeat(24))
        const removed = changeOf(keys, 'OPENAI_API_KEY')
        vol.write({ FIREWORKS_API_KEY: 'fw_' + 'b'.repeat(24) })
        expect((await removed).names).toEqual(['OPENAI_API_KEY'])
        expect(keys.get('openai')).toBeUndefined()
        expect(keys.names()).toEqual(['FIREWORKS_API_KEY'])
    })

    it('reads a single file mounted from a Secret volume (file -> ..data/file) across swaps', async () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ 'env.secrets': `OPENAI_API_KEY=${key(1)}\n` })
        await using keys = await openKeys({ path: join(vol.dir, 'env.secrets'), env: {} })
        expect(keys.get('openai')).toBe(key(1))
        for (let i = 2; i <= 20; i++) {
            const change = changeOf(keys, 'OPENAI_API_KEY')
            vol.write({ 'env.secrets': `OPENAI_API_KEY=${key(i)}\n` })
            await change
            expect(keys.get('openai')).toBe(key(i))
        }
    })
})
