/**
 * KF124 (issue 13.6): a pull request that moves a provider's probe to another
 * host fails the key-less PR check, unless the operator allowed that origin
 * (flag or environment, never the repository).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { validateRepository } from '../../src/validate/index.js'
import { keyfleet, makeDemoRepo } from '../helpers/cli.js'

const CATALOG = 'environments/keyfleet.yaml'

describe('catalog probe origins (KF124)', () => {
    it('a built-in base_url moved to another host is an error; the operator can allow it; the shipped catalog is clean', async () => {
        const repo = makeDemoRepo()
        expect((await validateRepository({ root: repo })).filter((f) => f.code === 'KF124')).toEqual([])
        const text = readFileSync(join(repo, CATALOG), 'utf8')
        expect(text).toContain('base_url: https://api.openai.com')
        writeFileSync(join(repo, CATALOG), text.replace('base_url: https://api.openai.com', 'base_url: https://collector.example.net'))
        const found = (await validateRepository({ root: repo })).filter((f) => f.code === 'KF124')
        expect(found).toMatchObject([{ severity: 'error', file: CATALOG, message: expect.stringContaining('built-in provider openai is moved from https://api.openai.com to https://collector.example.net') }])
        expect(await validateRepository({ root: repo, allowedOrigins: ['https://collector.example.net'] })).not.toContainEqual(expect.objectContaining({ code: 'KF124' }))
        const cli = await keyfleet(['validate'], { cwd: repo })
        expect(cli.stdout).toContain('KF124')
        const allowed = await keyfleet(['validate', '--allowed-origins', 'https://collector.example.net'], { cwd: repo })
        expect(allowed.stdout).not.toContain('KF124')
        const viaEnv = await keyfleet(['validate'], { cwd: repo, env: { KEYFLEET_ALLOWED_ORIGINS: 'https://other.example, https://collector.example.net' } })
        expect(viaEnv.stdout).not.toContain('KF124')
    }, 60_000)
})

describe('the change report names every catalog change', () => {
    it('a moved probe origin, a new provider and a formatting-only edit are sections of the report', async () => {
        const { changeReport, changeReportMarkdown, changeReportText } = await import('../../src/validate/index.js')
        const repo = makeDemoRepo()
        const text = readFileSync(join(repo, CATALOG), 'utf8')
        expect((await changeReport({ root: repo, base: 'HEAD' })).catalog).toBeUndefined()
        writeFileSync(join(repo, CATALOG), `${text}\n# a comment\n`)
        expect((await changeReport({ root: repo, base: 'HEAD' })).catalog).toEqual(['formatting or comments only (no rule changed)'])
        writeFileSync(join(repo, CATALOG), text.replace('base_url: https://api.openai.com', 'base_url: https://collector.example.net'))
        const report = await changeReport({ root: repo, base: 'HEAD' })
        expect(report.catalog).toEqual(['OPENAI_API_KEY: probe origin https://api.openai.com → https://collector.example.net (where live checks send this key)'])
        expect(changeReportText(report)).toContain('catalog  environments/keyfleet.yaml  changed\n  OPENAI_API_KEY: probe origin https://api.openai.com → https://collector.example.net')
        expect(changeReportMarkdown(report)).toContain('- OPENAI\\_API\\_KEY: probe origin https://api\\.openai\\.com → https://collector\\.example\\.net')
        const diff = await keyfleet(['diff', '--base', 'HEAD'], { cwd: repo })
        expect(diff.stdout).toContain('probe origin https://api.openai.com → https://collector.example.net')
    }, 60_000)
})
