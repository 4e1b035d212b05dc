/**
 * After `keyfleet rotate-key` only `OPENAI_API_KEY_2` is left: `get` and `run` still answer to the bare
 * name (and its service), with the newest member's value, on a file the real sops wrote; a bare member
 * present is never replaced. Also the pure helper, on pools with gaps and placeholders.
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinCatalog } from '../../src/catalog/builtin.js'
import { withBareNames } from '../../src/catalog/bare-names.js'
import { indexCatalog } from '../../src/catalog/resolve.js'
import { findLeaks } from '../helpers/canary.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

const index = indexCatalog(builtinCatalog)
const K2 = `sk-proj-two${'2'.repeat(40)}`
const K3 = `sk-proj-three${'3'.repeat(40)}`

describe('withBareNames', () => {
    it('adds the bare name as the newest usable member, only where the bare member is absent', () => {
        expect([...withBareNames(new Map([['OPENAI_API_KEY_2', K2], ['OPENAI_API_KEY_3', K3]]), index)]).toEqual([['OPENAI_API_KEY_2', K2], ['OPENAI_API_KEY_3', K3], ['OPENAI_API_KEY', K3]])
        expect(withBareNames(new Map([['OPENAI_API_KEY', 'bare'], ['OPENAI_API_KEY_2', K2]]), index).get('OPENAI_API_KEY')).toBe('bare')
        expect(withBareNames(new Map([['OPENAI_API_KEY_2', K2], ['OPENAI_API_KEY_3', 'changeme']]), index).get('OPENAI_API_KEY')).toBe(K2)
        expect(withBareNames(new Map([['CUSTOM_THING_2', 'x']]), index).has('CUSTOM_THING')).toBe(false)
    })
})

describe('get and run after a rotation removed the bare member', () => {
    it('answer to the bare name and the service with the newest member', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') }
        const stdin = `${K2}\n`
        expect((await keyfleet(['set', 'dev', 'OPENAI_API_KEY_2'], { cwd: repo, env, stdin })).code).toBe(0)
        const unset = await keyfleet(['unset', 'dev', 'OPENAI_API_KEY', '--force'], { cwd: repo, env })
        expect(unset.code, unset.stderr).toBe(0)
        const printed: string[] = []
        for (const name of ['OPENAI_API_KEY', 'openai', 'OPENAI_API_KEY_2']) {
            const r = await keyfleet(['get', 'dev', name], { cwd: repo, env })
            expect(r, name).toMatchObject({ code: 0, stdout: `${K2}\n` })
            printed.push(r.stderr)
        }
        // The child reports what it saw without printing the value (run's stdout is the child's own).
        const report = join(repo, '..', `bare-names-${process.pid}.json`)
        const script = `require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({ same: process.env.OPENAI_API_KEY === process.env.OPENAI_API_KEY_2, length: process.env.OPENAI_API_KEY?.length }))`
        const run = await keyfleet(['run', 'dev', '--', process.execPath, '-e', script], { cwd: repo, env })
        expect(run.code, run.stderr).toBe(0)
        // Only get's stdout carries the value: nothing else either command printed does, in any encoding.
        expect(findLeaks(K2, { printed: [...printed, run.stdout, run.stderr].join('\n') })).toEqual([])
        expect(JSON.parse(readFileSync(report, 'utf8'))).toEqual({ same: true, length: K2.length })
        rmSync(report)
    }, 120_000)
})
