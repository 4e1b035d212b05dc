/**
 * Half-written single-file sources (issue 7, "survive … half-written files"):
 * a writer that saves a dotenv or JSON file in place, in two writes, leaves a
 * moment in which the file holds a prefix that parses. The store must never
 * serve that prefix: it swaps only once the bytes have stopped changing.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { closeSync, openSync, utimesSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { LoaderCode, openKeys, type ChangeEvent, type KeyStore } from '../../src/loader/index.js'
import { cleanupTemp, nextEvent, tempDir, turn, untilValue } from './helpers.js'

afterAll(cleanupTemp)

const OLD = 'sk-proj-OLDoldOLDoldOLDoldOLDold1234'
const NEW = 'sk-proj-NEWnewNEWnewNEWnewNEWnew5678'
const ANT = 'sk-ant-api03-NEWnewNEWnewNEWnewNEWnewNEWnewNEWnew-9012'
const sleep = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms) })

/** Records every value `get(name)` returns, on every event-loop turn, until stopped. */
const observe = (store: KeyStore, names: readonly string[]): { seen: Set<string>; stop: () => Promise<void> } => {
    const seen = new Set<string>()
    let running = true
    const loop = (async () => {
        while (running) {
            seen.add(names.map((n) => `${n}=${store.get(n) ?? '<none>'}`).join(' '))
            await turn()
        }
    })()
    return { seen, stop: async () => { running = false; await loop } }
}

/** Writes `first`, waits `pauseMs`, then appends `rest` to the same open file: an in-place save in two writes. */
const writeInTwoParts = async (file: string, first: string, rest: string, pauseMs: number): Promise<void> => {
    const fd = openSync(file, 'w')
    try {
        writeSync(fd, first)
        await sleep(pauseMs)
        writeSync(fd, rest)
    } finally {
        closeSync(fd)
    }
}

const CHURN = `
const { renameSync, writeFileSync } = require('node:fs')
const { workerData } = require('node:worker_threads')
const { file, stop } = workerData
for (let i = 0; Atomics.load(stop, 0) === 0; i++) {
    writeFileSync(file + '.tmp', 'OPENAI_API_KEY=sk-proj-churn-' + i + '-aaaaaaaaaaaa\\n')
    renameSync(file + '.tmp', file)
    Atomics.wait(stop, 0, 0, 1)
}
`

// Makes a freshly written source look old, so the store opens on it without a stability wait.
const age = (file: string): void => { utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000)) }

describe('half-written single-file sources', () => {
    it('dotenv: a prefix that parses (value cut short, second key missing) is never served; one change with the final values', async () => {
        const file = join(tempDir('settle'), 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${OLD}\n`)
        age(file)
        await using keys = await openKeys({ path: file, env: {} })
        expect(keys.get('openai')).toBe(OLD)
        const changes: ChangeEvent[] = []
        keys.on('change', (e) => changes.push(e))
        const watched = observe(keys, ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'])
        // The reviewer's repro: `OPENAI_API_KEY=sk-proj-NEWnewN` parses on its own.
        const cut = 'OPENAI_API_KEY=sk-proj-NEWnewN'.length
        const final = `OPENAI_API_KEY=${NEW}\nANTHROPIC_API_KEY=${ANT}\n`
        await writeInTwoParts(file, final.slice(0, cut), final.slice(cut), 30)
        await untilValue(keys, 'claude', ANT)
        // Give a late second swap (the bug's symptom) time to show up.
        await sleep(200)
        await watched.stop()
        expect(changes).toEqual([{ names: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'], generation: 2, deployed: keys.deployed }])
        expect(keys.get('openai')).toBe(NEW)
        expect(keys.get('claude')).toBe(ANT)
        expect([...watched.seen].sort()).toEqual([
            `OPENAI_API_KEY=${NEW} ANTHROPIC_API_KEY=${ANT}`,
            `OPENAI_API_KEY=${OLD} ANTHROPIC_API_KEY=<none>`,
        ].sort())
    })

    it('JSON: a prefix that parses as a whole object is never served', async () => {
        const file = join(tempDir('settle'), 'keys.json')
        writeFileSync(file, JSON.stringify({ OPENAI_API_KEY: OLD }))
        age(file)
        await using keys = await openKeys({ path: file, env: {} })
        const changes: ChangeEvent[] = []
        keys.on('change', (e) => changes.push(e))
        const watched = observe(keys, ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'])
        // A pretty-printer that writes one object, then (30 ms later) rewrites it with a second key.
        const first = JSON.stringify({ OPENAI_API_KEY: 'sk-proj-NEWnewN' })
        const final = JSON.stringify({ OPENAI_API_KEY: NEW, ANTHROPIC_API_KEY: ANT })
        const fd = openSync(file, 'w')
        writeSync(fd, first)
        await sleep(30)
        writeSync(fd, final, 0)
        closeSync(fd)
        await untilValue(keys, 'claude', ANT)
        await sleep(200)
        await watched.stop()
        expect(changes).toEqual([{ names: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'], generation: 2, deployed: keys.deployed }])
        expect([...watched.seen].some((s) => s.includes('NEWnewN '))).toBe(false)
        expect(keys.get('openai')).toBe(NEW)
    })

    it('a file that never stops changing keeps the last good keys and is reported, then served once it settles', async () => {
        const file = join(tempDir('settle'), 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${OLD}\n`)
        age(file)
        await using keys = await openKeys({ path: file, env: {}, settleMs: 25, pollIntervalMs: 20 })
        const watched = observe(keys, ['OPENAI_API_KEY'])
        // Another process replaces the file (atomically, so never empty) with a new value about every millisecond.
        const stop = new Int32Array(new SharedArrayBuffer(4))
        const writer = new Worker(CHURN, { eval: true, workerData: { file, stop } })
        const error = await nextEvent(keys, 'error')
        Atomics.store(stop, 0, 1)
        await new Promise((resolve) => { writer.once('exit', resolve) })
        expect(error.code).toBe(LoaderCode.SOURCE_UNREADABLE)
        expect(error.message).not.toContain('churn')
        // On a busy machine the writer thread can stall for longer than settleMs; the file then really did
        // stand still and that (complete) value may be served. What must never happen: a value that did not
        // settle, or the last good keys traded for nothing.
        const CHURNED = /^sk-proj-churn-\d+-a{12}$/
        const atError = keys.get('openai')
        expect(atError === OLD || CHURNED.test(atError ?? '')).toBe(true)
        writeFileSync(file, `OPENAI_API_KEY=${NEW}\n`)
        await untilValue(keys, 'openai', NEW)
        await turn()
        await watched.stop()
        const seen = [...watched.seen]
        expect(seen).toContain(`OPENAI_API_KEY=${OLD}`)
        expect(seen).toContain(`OPENAI_API_KEY=${NEW}`)
        for (const s of seen) expect(s === `OPENAI_API_KEY=${OLD}` || s === `OPENAI_API_KEY=${NEW}` || CHURNED.test(s.slice('OPENAI_API_KEY='.length))).toBe(true)
        expect(keys.source.problem).toBeUndefined()
    })

    it('opens an existing file that was last written longer than settleMs ago without waiting', async () => {
        const file = join(tempDir('settle'), 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${OLD}\n`)
        age(file)
        // With a settle time far longer than the test timeout, a wait here would time the test out.
        await using keys = await openKeys({ path: file, env: {}, settleMs: 30_000 })
        expect(keys.get('openai')).toBe(OLD)
        expect(keys.generation).toBe(1)
    })
})
