/**
 * The committed bundle must be exactly what the build script produces from
 * the current sources (the check-dist pattern): otherwise the runner would
 * execute code nobody reviewed.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/tools.js'

const committed = join(repoRoot, '.github', 'actions', 'keyfleet', 'dist')
const scratch = mkdtempSync(join(tmpdir(), 'kf-bundle-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('action bundle', () => {
    it('matches a fresh build byte for byte (run `npm run build:action` after changing src/)', () => {
        execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-action.mjs'), '--out', join(scratch, 'fresh')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] })
        expect(readdirSync(join(scratch, 'fresh')).sort()).toEqual(readdirSync(committed).sort())
        for (const file of readdirSync(join(scratch, 'fresh'))) {
            const fresh = readFileSync(join(scratch, 'fresh', file))
            const ours = readFileSync(join(committed, file))
            expect(fresh.equals(ours), `${file} differs from a rebuild: run npm run build:action`).toBe(true)
        }
    })

    // Issue 13, finding 1: the PR job "Action bundle matches its source" runs this script.
    it('check-action-bundle.mjs passes the committed bundle and fails on one changed byte, a missing or an extra file', () => {
        const check = (dist: string) => spawnSync(process.execPath, [join(repoRoot, 'scripts', 'check-action-bundle.mjs'), '--dist', dist], { cwd: repoRoot, encoding: 'utf8' })
        const ok = check(committed)
        expect(ok.status, ok.stdout + ok.stderr).toBe(0)
        const copy = (name: string): string => { const d = join(scratch, name); cpSync(committed, d, { recursive: true }); return d }
        const doctored = copy('doctored')
        appendFileSync(join(doctored, 'index.js'), ';')
        const bad = check(doctored)
        expect(bad.status).toBe(1)
        expect(bad.stdout).toContain('::error title=keyfleet action bundle::index.js: differs from a rebuild of the source')
        const extra = copy('extra')
        writeFileSync(join(extra, 'payload.js'), 'steal()\n')
        expect(check(extra).stdout).toContain('payload.js: committed but not produced by the build')
        const missing = copy('missing')
        rmSync(join(missing, 'package.json'))
        expect(check(missing).stdout).toContain('package.json: produced by the build but not committed')
    })

    it('is ESM on its own and carries no absolute build paths', () => {
        expect(JSON.parse(readFileSync(join(committed, 'package.json'), 'utf8'))).toEqual({ type: 'module' })
        const text = readFileSync(join(committed, 'index.js'), 'utf8')
        expect(text).not.toContain(repoRoot)
        expect(text).not.toContain('undici')
    })
})
