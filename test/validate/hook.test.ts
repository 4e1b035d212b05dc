/**
 * `keyfleet hook install` and `keyfleet scan`, through the CLI in process.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { HOOK_MARKER } from '../../src/validate/index.js'
import { findLeaks } from '../helpers/canary.js'
import { cli } from './cli-io.js'
import { fakeKey, makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => { f = await makeFixture() })
afterAll(() => f.cleanup())

describe('keyfleet hook install', () => {
    test('writes an executable pre-commit hook running scan --staged; refuses a foreign hook without --force', async () => {
        const path = join(f.root, '.git', 'hooks', 'pre-commit')
        const first = await cli(['hook', 'install'], f.root)
        expect(first).toMatchObject({ code: 0 })
        expect(first.stdout).toContain('created')
        const script = readFileSync(path, 'utf8')
        expect(script).toContain(HOOK_MARKER)
        expect(script).toContain('keyfleet scan --staged')
        expect(statSync(path).mode & 0o111).not.toBe(0)
        expect(execFileSync('sh', ['-n', path]).toString()).toBe('')
        expect((await cli(['hook', 'install'], f.root)).stdout).toContain('updated')

        writeFileSync(path, '#!/bin/sh\nexec lint-staged\n')
        const refused = await cli(['hook', 'install'], f.root)
        expect(refused.code).toBe(2)
        expect(refused.stderr).toContain('HOOK_EXISTS')
        expect(readFileSync(path, 'utf8')).toContain('lint-staged')
        const forced = await cli(['hook', 'install', '--force'], f.root)
        expect(forced.code).toBe(0)
        expect(forced.stdout).toContain('replaced')
        expect(readFileSync(path, 'utf8')).toContain(HOOK_MARKER)
    })
})

describe('keyfleet scan', () => {
    test('--staged exits 1 on a staged key, prints file:line and a hint, never the key; 0 when clean', async () => {
        expect(await cli(['scan', '--staged'], f.root)).toMatchObject({ code: 0, stdout: '' })
        const key = fakeKey.openai()
        f.write('app/config.py', `import os\nOPENAI = "${key}"\n`)
        f.git('add', 'app/config.py')
        const run = await cli(['scan', '--staged'], f.root)
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^app\/config\.py:2: error KF130 plaintext openai key \(openai, \d+ chars, …/)
        const json = await cli(['scan', '--staged', '--json'], f.root)
        expect(JSON.parse(json.stdout).findings).toHaveLength(1)
        const files = await cli(['scan', 'app/config.py'], f.root)
        expect(files.code).toBe(1)
        const all = await cli(['scan', '--all'], f.root)
        expect(all.code).toBe(1)
        for (const r of [run, json, files, all]) expect(findLeaks(key, { stdout: r.stdout, stderr: r.stderr })).toEqual([])
        f.git('rm', '-q', '--cached', 'app/config.py')
    })

    test('usage: exactly one scope', async () => {
        expect((await cli(['scan'], f.root)).code).toBe(2)
        expect((await cli(['scan', '--all', '--staged'], f.root)).code).toBe(2)
        expect((await cli(['scan', '--head', 'HEAD', 'x'], f.root)).code).toBe(2)
    })
})
