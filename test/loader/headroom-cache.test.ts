/**
 * The headroom selector caches its scores while no member changes (issue 18 item 2: a cheap
 * get()). Invariant: the picks are exactly those of the rule in docs/loader.md — the most
 * remaining requests minus unanswered picks, unobserved members first, cooling ones skipped,
 * ties in turn — whatever mix of picks, answers and cool-downs arrives. A seeded random
 * sequence is run against a plain model of that rule; the seed is printed on a failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { openKeys, type KeyStore } from '../../src/loader/index.js'
import { cleanupTemp, tempDir, turn } from './helpers.js'

const stores: KeyStore[] = []
afterEach(async () => { await Promise.all(stores.splice(0).map((s) => s.close())) })
afterAll(cleanupTemp)

const rng = (seed: number): (() => number) => () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const NAMES = ['OPENAI_API_KEY', 'OPENAI_API_KEY_2', 'OPENAI_API_KEY_3']

/** How a seeded run mixes its steps: a pick below `pick`, an answer below `answer`, else a cool-down. */
interface Mix { readonly pick: number; readonly answer: number; readonly remaining: readonly [min: number, spread: number] }

describe('headroom cache', () => {
    it.each<[string, Mix]>([
        ['random picks, answers and cool-downs', { pick: 0.8, answer: 0.97, remaining: [50, 2000] }],
        // Long runs of cached picks among near-equal scores: ties, turns and the top score moving.
        ['long runs of picks among near-equal quotas', { pick: 0.97, answer: 0.9995, remaining: [1000, 6] }],
    ])('picks as the rule says through %s (seeded)', async (_, mix) => {
        const seed = Number(process.env.KEYFLEET_TEST_SEED ?? Date.now() % 2 ** 31)
        const random = rng(seed)
        const env = Object.fromEntries(NAMES.map((n, i) => [n, `sk-proj-cache-${i}-${'c'.repeat(40)}`]))
        const keys = await openKeys({ env, watch: false, persistent: false, selection: { strategy: 'headroom' } })
        stores.push(keys)
        // The model: remaining (-1 unknown), unanswered picks, cooling, and the turn.
        const model = NAMES.map(() => ({ remaining: -1, pending: 0, cooling: false }))
        let cursor = 0
        const expected = (): number => {
            let best = -1
            let bestScore = 0
            for (let k = 0; k < NAMES.length; k++) {
                const i = (cursor + k) % NAMES.length
                const m = model[i] as (typeof model)[number]
                const score = m.cooling ? 0 : m.remaining < 0 ? Infinity : Math.max(0, m.remaining - m.pending)
                if (score > bestScore) { best = i; bestScore = score }
            }
            return best
        }
        const log: string[] = []
        for (let step = 0; step < 3000; step++) {
            const r = random()
            if (r < mix.pick) {
                const want = expected()
                if (want < 0) break // every member out: the soonest-back rule, not what this test is about
                const choice = keys.pick('openai')
                log.push(`pick ${choice?.name ?? '-'}`)
                expect(choice?.name, `seed ${seed}, step ${step}: ${log.slice(-8).join('; ')}`).toBe(NAMES[want])
                ;(model[want] as (typeof model)[number]).pending++
                cursor = (want + 1) % NAMES.length
            } else if (r < mix.answer) {
                const i = Math.floor(random() * NAMES.length)
                const m = model[i] as (typeof model)[number]
                const remaining = mix.remaining[0] + Math.floor(random() * mix.remaining[1])
                keys.observe({ name: NAMES[i] as string, value: env[NAMES[i] as string] as string }, {
                    status: 200, headers: { 'x-ratelimit-limit-requests': '5000', 'x-ratelimit-remaining-requests': String(remaining), 'x-ratelimit-reset-requests': '6m0s' },
                })
                log.push(`observe ${NAMES[i]} ${remaining}`)
                if (m.pending > 0) m.pending--
                // Within one window the lower remaining is the newer truth (usage.ts).
                m.remaining = m.remaining < 0 ? remaining : Math.min(m.remaining, remaining)
            } else {
                const i = Math.floor(random() * NAMES.length)
                // Never the last member standing: with all three cooling for the hour, no pick is left to check
                // (a seed that cooled all three in its first steps ended the run after 7 picks).
                if (model.filter((m, j) => j !== i && !m.cooling).length === 0) continue
                keys.reportFailure(NAMES[i] as string, { cooldownMs: 3_600_000 })
                log.push(`cool ${NAMES[i]}`)
                ;(model[i] as (typeof model)[number]).cooling = true
            }
        }
        expect(log.filter((l) => l.startsWith('pick')).length, `seed ${seed}`).toBeGreaterThan(10)
    })

    it('a re-read that changes no key leaves the serving selector up to date', async () => {
        const dir = join(tempDir('headroom-cache'), 'keys')
        mkdirSync(dir)
        const values = NAMES.map((_, i) => `sk-proj-reread-${i}-${'r'.repeat(40)}`)
        NAMES.forEach((n, i) => { writeFileSync(join(dir, n), values[i] as string) })
        const entry = (agent: string): string => `${JSON.stringify({ environment: 'dev', agent, generation: '0123456789abcdef' })}\n`
        writeFileSync(join(dir, '.keyfleet-generation'), entry('one'))
        const keys = await openKeys({ path: dir, env: {}, persistent: false, selection: { strategy: 'headroom' } })
        stores.push(keys)
        const answer = (i: number, remaining: number, reset: string): void => {
            keys.observe({ name: NAMES[i] as string, value: values[i] as string }, {
                status: 200, headers: { 'x-ratelimit-remaining-requests': String(remaining), 'x-ratelimit-reset-requests': reset },
            })
        }
        answer(0, 100, '1m0s')
        answer(1, 50, '1m0s')
        answer(2, 10, '1m0s')
        expect(keys.pick('openai')?.name).toBe('OPENAI_API_KEY')
        // Same keys, another claim: the store reads it and builds a snapshot it does not serve.
        writeFileSync(join(dir, '.keyfleet-generation'), entry('two'))
        for (let i = 0; i < 2000 && keys.deployed?.agent !== 'two'; i++) { await turn(); await new Promise((r) => setTimeout(r, 5)) }
        expect(keys.deployed?.agent).toBe('two')
        expect(keys.generation).toBe(1)
        expect(keys.pick('openai')?.name).toBe('OPENAI_API_KEY')
        answer(2, 5000, '6m0s') // a later window: the new truth for member 3
        expect(keys.pick('openai')?.name).toBe('OPENAI_API_KEY_3')
    })
})
