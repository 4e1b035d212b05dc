/**
 * The PR check validates write-only proposals key-less: `keyfleet validate`
 * reports a bad proposal file (KF150) and an unknown name (KF151), and
 * accepts a proposal made by `keyfleet propose` with no identity at all.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { repoRoot } from '../helpers/tools.js'

describe('validate checks proposals key-less', () => {
    it('accepts a real proposal and flags broken or unknown ones', async () => {
        const repo = makeDemoRepo()
        const proposed = await keyfleet(['propose', 'prod', 'OPENAI_API_KEY'], { cwd: repo, stdin: 'sk-proj-PROPOSEDabcdefghijklmnopqrstuvwxyz', env: { SOPS_AGE_KEY_FILE: undefined } })
        expect(proposed.code).toBe(0)
        const clean = await keyfleet(['validate', '--env', 'prod', '--keyless'], { cwd: repo })
        expect(clean.stdout).not.toContain('KF15')
        expect(clean.code).toBe(0)
        mkdirSync(join(repo, 'environments', 'prod', 'proposals'), { recursive: true })
        writeFileSync(join(repo, 'environments', 'prod', 'proposals', 'GEMINI_API_KEY.age'), 'this is not an age file\n')
        writeFileSync(join(repo, 'environments', 'prod', 'proposals', 'NOT_IN_CATALOG.age'), 'x\n')
        const broken = await keyfleet(['validate', '--env', 'prod', '--keyless'], { cwd: repo })
        expect(broken.code).toBe(1)
        expect(broken.stdout).toContain('KF150')
        expect(broken.stdout).toContain('KF151')
    })
})

describe('the key-less proposal check lives in validate (module boundary)', () => {
    it('lifecycle and validate share one proposal file-name shape', async () => {
        const { PROPOSAL_FILE } = await import('../../src/lifecycle/index.js')
        const { PROPOSAL_FILE_NAME } = await import('../../src/validate/proposals.js')
        expect(PROPOSAL_FILE).toBe(PROPOSAL_FILE_NAME)
    })

    it('validate imports only sops, catalog, repo and render (never lifecycle), and lifecycle re-exports the same functions', async () => {
        const { readFileSync, readdirSync } = await import('node:fs')
        const dir = join(repoRoot, 'src', 'validate')
        for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
            const imports = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '(\.\.\/[^']+)'/g)].map((m) => m[1])
            for (const spec of imports) expect(spec, `${file} imports ${spec}`).toMatch(/^\.\.\/(sops|catalog|repo|render)\/|^\.\.\/(errors|findings|yaml-source|re2)\.js$/)
        }
        const lifecycle = await import('../../src/lifecycle/index.js')
        const validate = await import('../../src/validate/index.js')
        expect(lifecycle.checkProposalsKeyless).toBe(validate.checkProposalsKeyless)
        expect(lifecycle.inspectAgeFile).toBe(validate.inspectAgeFile)
        expect(lifecycle.LIFECYCLE_CODES).toBe(validate.LIFECYCLE_CODES)
    })
})
