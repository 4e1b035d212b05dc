/**
 * Issue 12 item 9: a Secret volume whose data vanished (`..data` and its
 * directory gone, per-key links dangling) is a bad source — an `error` event,
 * the last good keys kept — while a Secret deliberately emptied the kubelet
 * way (a new, empty `..data` directory, no per-key links) is served as empty.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { readlinkSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { LoaderCode, openKeys } from '../../src/loader/index.js'
import { KubeletVolume } from './kubelet.js'
import { changeOf, cleanupTemp, nextEvent, tempDir } from './helpers.js'

afterAll(cleanupTemp)

const OPENAI = `sk-proj-${'a'.repeat(40)}`
const GEMINI = `AIza${'x'.repeat(35)}`

describe('a Secret volume whose data vanished', () => {
    it('..data and its directory removed, links dangling: error event, last good keys kept', async () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ OPENAI_API_KEY: OPENAI, GEMINI_API_KEY: GEMINI })
        await using keys = await openKeys({ path: vol.dir, env: {} })
        const changes: string[][] = []
        keys.on('change', (e) => changes.push([...e.names]))
        const failed = nextEvent(keys, 'error')
        const target = readlinkSync(join(vol.dir, '..data'))
        unlinkSync(join(vol.dir, '..data'))
        rmSync(join(vol.dir, target), { recursive: true, force: true })
        const error = await failed
        expect(error.code).toBe(LoaderCode.SOURCE_UNREADABLE)
        expect(error.message).not.toContain(OPENAI)
        expect(keys.get('OPENAI_API_KEY')).toBe(OPENAI)
        expect(keys.get('GEMINI_API_KEY')).toBe(GEMINI)
        expect(changes).toEqual([])
        // The volume comes back (the kubelet rewrites it): the new keys are served.
        const back = changeOf(keys, 'OPENAI_API_KEY')
        vol.write({ OPENAI_API_KEY: `sk-proj-${'b'.repeat(40)}`, GEMINI_API_KEY: GEMINI })
        await back
        expect(keys.get('OPENAI_API_KEY')).toBe(`sk-proj-${'b'.repeat(40)}`)
    })

    it('..data left pointing at a removed directory: error event, last good keys kept', async () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ OPENAI_API_KEY: OPENAI })
        await using keys = await openKeys({ path: vol.dir, env: {} })
        const failed = nextEvent(keys, 'error')
        rmSync(join(vol.dir, readlinkSync(join(vol.dir, '..data'))), { recursive: true, force: true })
        expect((await failed).code).toBe(LoaderCode.SOURCE_UNREADABLE)
        expect(keys.get('OPENAI_API_KEY')).toBe(OPENAI)
    })

    it('opening a volume whose data already vanished reports the problem instead of a clean empty source', async () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ OPENAI_API_KEY: OPENAI })
        const target = readlinkSync(join(vol.dir, '..data'))
        unlinkSync(join(vol.dir, '..data'))
        rmSync(join(vol.dir, target), { recursive: true, force: true })
        await using keys = await openKeys({ path: vol.dir, env: {} })
        expect(keys.source.problem?.code).toBe(LoaderCode.SOURCE_UNREADABLE)
        expect(keys.generation).toBe(0)
    })
})

describe('a Secret deliberately emptied', () => {
    it('the kubelet sequence for a Secret with no keys is served as an empty key set', async () => {
        const vol = new KubeletVolume(join(tempDir('vol', { tmpfs: true }), 'keys'))
        vol.write({ OPENAI_API_KEY: OPENAI, GEMINI_API_KEY: GEMINI })
        await using keys = await openKeys({ path: vol.dir, env: {} })
        const errors: string[] = []
        keys.on('error', (e) => errors.push(e.code))
        const emptied = changeOf(keys, 'OPENAI_API_KEY')
        expect(vol.write({})).toBe(true)
        expect([...(await emptied).names].sort()).toEqual(['GEMINI_API_KEY', 'OPENAI_API_KEY'])
        expect(keys.names()).toEqual([])
        expect(keys.get('OPENAI_API_KEY')).toBeUndefined()
        expect(errors).toEqual([])
    })
})
