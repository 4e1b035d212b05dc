/**
 * The committed bundle must be exactly what the build script produces from
 * the current sources (the check-dist pattern): otherwise the runner would
 * execute code nobody reviewed.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/tools.js'

const committed = join(repoRoot, '.github', 'actions', 'keyfleet', 'dist')
const scratch = mkdtempSync(join(tmpdir(), 'kf-bundle-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('action bundle', () => {
    it('matches a fresh build byte for byte (run `npm run build:action` after changing src/)', () => {
        execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-action.mjs'), '--out', scratch], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] })
        expect(readdirSync(scratch).sort()).toEqual(readdirSync(committed).sort())
        for (const file of readdirSync(scratch)) {
            const fresh = readFileSync(join(scratch, file))
            const ours = readFileSync(join(committed, file))
            expect(fresh.equals(ours), `${file} differs from a rebuild: run npm run build:action`).toBe(true)
        }
    })

    it('is ESM on its own and carries no absolute build paths', () => {
        expect(JSON.parse(readFileSync(join(committed, 'package.json'), 'utf8'))).toEqual({ type: 'module' })
        const text = readFileSync(join(committed, 'index.js'), 'utf8')
        expect(text).not.toContain(repoRoot)
        expect(text).not.toContain('undici')
    })
})
