/**
 * Canaries: plant recognisable fake keys and search everything the loader,
 * the example agent and the rotation demo printed, emitted, threw or wrote,
 * in raw, base64, URL and JSON forms.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openKeys } from '../../src/loader/index.js'
import { startAgent } from '../../examples/agent.js'
import { runRotationDemo } from '../../scripts/demo-rotation.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { KubeletVolume } from './kubelet.js'
import { changeOf, cleanupTemp, nextEvent, tempDir } from './helpers.js'

afterAll(cleanupTemp)

const errorText = (e: unknown): string => {
    let out = ''
    for (let c: unknown = e; c instanceof Error; c = c.cause) out += `${c.message}\n${c.stack ?? ''}\n${JSON.stringify(c)}\n`
    return out
}

describe('no value escapes', () => {
    it('the example agent logs hints, never values, across a rotation and a missing key', async () => {
        const [first, second, env] = [makeCanary(), makeCanary(), makeCanary()]
        const root = tempDir('canary')
        const vol = new KubeletVolume(join(root, 'keys'))
        vol.write({ OPENAI_API_KEY: first, CLAUDE_API_KEY: `sk-ant-api03-${first.slice(8)}` })
        const lines: string[] = []
        const keys = await startAgent((l) => lines.push(l), { path: vol.dir, env: { GEMINI_API_KEY: env } })
        const thrown: string[] = []
        try {
            const change = changeOf(keys, 'OPENAI_API_KEY')
            vol.write({ OPENAI_API_KEY: second, CLAUDE_API_KEY: `sk-ant-api03-${first.slice(8)}` })
            await change
            expect(keys.get('openai')).toBe(second)
            try { keys.require('fireworks') } catch (e) { thrown.push(errorText(e)) }
        } finally {
            await keys.close()
        }
        expect(lines.join('\n')).toMatch(/openai +openai, \d+ chars, …/)
        const haystacks = { log: lines.join('\n'), thrown: thrown.join('\n') }
        for (const value of [first, second, env]) expect(findLeaks(value, haystacks)).toEqual([])
        // The loader wrote nothing next to the source or anywhere under the temp root.
        expect(readdirSync(root)).toEqual(['keys'])
        expect(readdirSync(vol.dir).filter((e) => !e.startsWith('..')).sort()).toEqual(['CLAUDE_API_KEY', 'OPENAI_API_KEY'])
    })

    it('error and change events of a file source carry names only', async () => {
        const value = makeCanary()
        const dir = tempDir('canary')
        const file = join(dir, 'agent.env')
        writeFileSync(file, `OPENAI_API_KEY=${value}\n`)
        await using keys = await openKeys({ path: file, env: {} })
        const events: string[] = []
        keys.on('error', (e) => events.push(errorText(e)))
        keys.on('change', (e) => events.push(JSON.stringify(e)))
        const failed = nextEvent(keys, 'error')
        writeFileSync(file, `OPENAI_API_KEY=${value}\n"${value}\n`)
        await failed
        const change = changeOf(keys, 'OPENAI_API_KEY')
        writeFileSync(file, `OPENAI_API_KEY="${value}x"\n`)
        await change
        expect(events.length).toBeGreaterThanOrEqual(2)
        expect(findLeaks(value, { events: events.join('\n'), source: JSON.stringify(keys.source), files: readdirSync(dir).join('\n') })).toEqual([])
    })

    it('the rotation demo prints hints and timings only', async () => {
        const canaries: string[] = []
        const lines: string[] = []
        const result = await runRotationDemo((l) => lines.push(l), 3, () => { const c = makeCanary(); canaries.push(c); return c })
        expect(result.delaysMs).toHaveLength(3)
        expect(lines.join('\n')).toMatch(/rotation 3: kubelet swapped \.\.data; get\('openai'\) now openai, \d+ chars, …\w{4} after [\d.]+ ms/)
        for (const c of canaries) expect(findLeaks(c, { log: lines.join('\n') })).toEqual([])
    })
})
