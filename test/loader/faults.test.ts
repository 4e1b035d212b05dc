/**
 * Every way a mounted or edited source goes wrong: the store keeps serving the
 * last good keys, says why through `error`, and recovers when the source does.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdirSync, openSync, closeSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { LoaderCode, openKeys, type KeyStore, type WatchFunction } from '../../src/loader/index.js'
import { KubeletVolume } from './kubelet.js'
import { changeOf, cleanupTemp, nextEvent, tempDir, turn, untilValue } from './helpers.js'

afterAll(cleanupTemp)

const OLD = 'sk-proj-OLDoldOLDoldOLDoldOLDold1234'
const NEW = 'sk-proj-NEWnewNEWnewNEWnewNEWnew5678'

const dotenvFile = (value = OLD): string => {
    const file = join(tempDir(), 'agent.env')
    writeFileSync(file, `OPENAI_API_KEY=${value}\n`)
    return file
}

const expectNoValue = (store: KeyStore, error: Error): void => {
    expect(error.message).not.toContain(OLD)
    expect(error.message).not.toContain(NEW)
    expect(store.get('openai')).toBe(OLD)
}

describe('editors and writers', () => {
    it('survives delete-and-recreate of the file', async () => {
        const file = dotenvFile()
        await using keys = await openKeys({ path: file, env: {} })
        const missing = nextEvent(keys, 'error')
        rmSync(file)
        const error = await missing
        expect(error.code).toBe(LoaderCode.SOURCE_MISSING)
        expectNoValue(keys, error)
        expect(keys.source.problem?.code).toBe(LoaderCode.SOURCE_MISSING)
        const change = changeOf(keys, 'OPENAI_API_KEY')
        writeFileSync(file, `OPENAI_API_KEY=${NEW}\n`)
        await change
        expect(keys.get('openai')).toBe(NEW)
        expect(keys.source.problem).toBeUndefined()
    })

    it('sees a rename over the file (atomic save)', async () => {
        const file = dotenvFile()
        await using keys = await openKeys({ path: file, env: {} })
        const change = changeOf(keys, 'OPENAI_API_KEY')
        writeFileSync(`${file}.tmp`, `OPENAI_API_KEY=${NEW}\n`)
        renameSync(`${file}.tmp`, file)
        await change
        expect(keys.get('openai')).toBe(NEW)
    })

    it('serves the old key through a truncate-then-write save, never nothing', async () => {
        const file = dotenvFile()
        await using keys = await openKeys({ path: file, env: {} })
        const reads = new Set<string | undefined>()
        let reading = true
        const reader = (async () => { while (reading) { reads.add(keys.get('openai')); await turn() } })()
        const fd = openSync(file, 'w') // truncates
        await turn(); await turn()
        writeSync(fd, `OPENAI_API_KEY=${NEW}\n`)
        closeSync(fd)
        await untilValue(keys, 'openai', NEW)
        reading = false
        await reader
        expect([...reads].every((v) => v === OLD || v === NEW)).toBe(true)
    })

    it('keeps the last good keys while a JSON file is half-written, and says why without the value', async () => {
        const file = join(tempDir(), 'keys.json')
        writeFileSync(file, JSON.stringify({ OPENAI_API_KEY: OLD }))
        await using keys = await openKeys({ path: file, env: {} })
        expect(keys.source.kind).toBe('json')
        const failed = nextEvent(keys, 'error')
        writeFileSync(file, `{"OPENAI_API_KEY": "${NEW.slice(0, 20)}`)
        const error = await failed
        expect(error.code).toBe(LoaderCode.PARSE_FAILED)
        expectNoValue(keys, error)
        expect(error.message).not.toContain(NEW.slice(0, 20))
        const change = changeOf(keys, 'OPENAI_API_KEY')
        writeFileSync(file, JSON.stringify({ OPENAI_API_KEY: NEW }))
        await change
        expect(keys.get('openai')).toBe(NEW)
    })

    it('keeps the last good keys while a dotenv file is half-written (line cut mid-name)', async () => {
        const file = dotenvFile()
        await using keys = await openKeys({ path: file, env: {} })
        const failed = nextEvent(keys, 'error')
        writeFileSync(file, `OPENAI_API_KEY=${NEW}\nANTHROPIC_AP`)
        const error = await failed
        expect(error.code).toBe(LoaderCode.PARSE_FAILED)
        expect(error.line).toBe(2)
        expectNoValue(keys, error)
    })

    it('reports a lasting problem once, not on every retry', async () => {
        const file = dotenvFile()
        await using keys = await openKeys({ path: file, env: {}, pollIntervalMs: 10, settleMs: 5 })
        const errors: string[] = []
        keys.on('error', (e) => errors.push(e.code))
        writeFileSync(file, 'not a dotenv line')
        await nextEvent(keys, 'error', () => true).catch(() => undefined)
        for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 10))
        expect(errors).toEqual([LoaderCode.PARSE_FAILED])
    })
})

describe('sources that come and go', () => {
    it('resolves empty when the path does not exist yet and emits change when it appears (nested dirs)', async () => {
        const root = tempDir()
        const dir = join(root, 'a', 'b', 'keys')
        await using keys = await openKeys({ path: dir, env: {} })
        expect(keys.names()).toEqual([])
        expect(keys.generation).toBe(0)
        expect(keys.source.problem?.code).toBe(LoaderCode.SOURCE_MISSING)
        const change = changeOf(keys, 'OPENAI_API_KEY')
        const vol = new KubeletVolume(dir)
        vol.write({ OPENAI_API_KEY: NEW })
        expect((await change).generation).toBe(1)
        expect(keys.get('openai')).toBe(NEW)
    })

    it('survives the whole directory being deleted and recreated', async () => {
        const dir = join(tempDir(), 'keys')
        const vol = new KubeletVolume(dir)
        vol.write({ OPENAI_API_KEY: OLD })
        await using keys = await openKeys({ path: dir, env: {} })
        const missing = nextEvent(keys, 'error')
        rmSync(dir, { recursive: true })
        expect((await missing).code).toBe(LoaderCode.SOURCE_MISSING)
        expect(keys.get('openai')).toBe(OLD)
        const change = changeOf(keys, 'OPENAI_API_KEY')
        new KubeletVolume(dir).write({ OPENAI_API_KEY: NEW })
        await change
        expect(keys.get('openai')).toBe(NEW)
        // And it still watches the new directory.
        const again = changeOf(keys, 'OPENAI_API_KEY')
        new KubeletVolume(dir).write({ OPENAI_API_KEY: OLD })
        await again
        expect(keys.get('openai')).toBe(OLD)
    })

    it('reads a plain directory of files, ignoring dot-entries and subdirectories', async () => {
        const dir = tempDir()
        writeFileSync(join(dir, 'OPENAI_API_KEY'), `${OLD}\n`)
        writeFileSync(join(dir, '.hidden'), 'x')
        mkdirSync(join(dir, 'sub'))
        await using keys = await openKeys({ path: dir, env: {} })
        expect(keys.names()).toEqual(['OPENAI_API_KEY'])
        expect(keys.get('openai')).toBe(OLD)
    })
})

describe('watching impossible: polling fallback', () => {
    const enospc: WatchFunction = () => { throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' }) }

    it('falls back to polling on ENOSPC, says so, and still sees changes', async () => {
        const file = dotenvFile()
        const fallbacks: unknown[] = []
        const keys = await openKeys({ path: file, env: {}, watch: (dir, l) => { try { return enospc(dir, l) } finally { fallbacks.push(dir) } }, pollIntervalMs: 20 })
        try {
            expect(keys.source.mode).toBe('poll')
            const change = changeOf(keys, 'OPENAI_API_KEY')
            writeFileSync(file, `OPENAI_API_KEY=${NEW}\n`)
            await change
            expect(keys.get('openai')).toBe(NEW)
        } finally {
            await keys.close()
        }
        expect(fallbacks).toHaveLength(1)
    })

    it('emits fallback with reason and interval when the watch fails later (EMFILE)', async () => {
        const file = dotenvFile()
        let fail: ((e: Error) => void) | undefined
        const watch: WatchFunction = () => ({ close: () => undefined, on: (_e, l) => { fail = l } })
        await using keys = await openKeys({ path: file, env: {}, watch, pollIntervalMs: 20 })
        expect(keys.source.mode).toBe('watch')
        const fallback = nextEvent(keys, 'fallback')
        fail?.(Object.assign(new Error('EMFILE'), { code: 'EMFILE' }))
        const event = await fallback
        expect(event).toMatchObject({ reason: 'EMFILE', intervalMs: 20 })
        expect(event.error.code).toBe(LoaderCode.POLLING_FALLBACK)
        expect(keys.source.mode).toBe('poll')
        const change = changeOf(keys, 'OPENAI_API_KEY')
        writeFileSync(file, `OPENAI_API_KEY=${NEW}\n`)
        await change
    })

    it('polls only with watch: false', async () => {
        const dir = join(tempDir(), 'keys')
        const vol = new KubeletVolume(dir)
        vol.write({ OPENAI_API_KEY: OLD })
        await using keys = await openKeys({ path: dir, env: {}, watch: false, pollIntervalMs: 20 })
        expect(keys.source.mode).toBe('poll')
        const change = changeOf(keys, 'OPENAI_API_KEY')
        vol.write({ OPENAI_API_KEY: NEW })
        await change
    })
})

describe('lifecycle', () => {
    it('rejects an already aborted signal and closes on abort', async () => {
        await expect(openKeys({ signal: AbortSignal.abort(), env: {} })).rejects.toMatchObject({ code: LoaderCode.ABORTED })
        const file = dotenvFile()
        const controller = new AbortController()
        const keys = await openKeys({ path: file, env: {}, signal: controller.signal })
        controller.abort()
        await turn()
        expect(keys.source.mode).toBe('none')
        const changes: unknown[] = []
        keys.on('change', (e) => changes.push(e))
        writeFileSync(file, `OPENAI_API_KEY=${NEW}\n`)
        for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5))
        expect(changes).toEqual([])
        expect(keys.get('openai')).toBe(OLD)
    })
})
