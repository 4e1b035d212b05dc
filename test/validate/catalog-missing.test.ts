/**
 * Issue 4 #3: a deleted environments/keyfleet.yaml must not silently weaken
 * validation to the built-in catalog (which lacks the repository's own rules,
 * e.g. prod's required AGENT_GATEWAY_TOKEN): it is an error finding, KF123.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readRepoCatalog, validateRepository } from '../../src/validate/index.js'
import { cli } from './cli-io.js'
import { makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => {
    f = await makeFixture()
    rmSync(join(f.root, 'environments', 'keyfleet.yaml'))
})
afterAll(() => f.cleanup())

describe('a missing catalog', () => {
    test('is KF123 (error) on environments/keyfleet.yaml; readRepoCatalog marks it invalid', async () => {
        expect(readRepoCatalog(f.root)).toMatchObject({ valid: false, findings: [{ code: 'KF123', severity: 'error', file: 'environments/keyfleet.yaml' }] })
        const findings = await validateRepository({ root: f.root })
        const kf123 = findings.filter((x) => x.code === 'KF123')
        expect(kf123).toHaveLength(1)
        expect(kf123[0]?.message).toMatch(/^catalog missing: environments\/keyfleet\.yaml does not exist/)
    })

    test('the built-in stand-in invents no environments: only the directories are checked', async () => {
        const findings = await validateRepository({ root: f.root })
        // The built-in catalog lists stage; the fixture has none, so no KF106 for it.
        expect(findings.filter((x) => x.file.includes('/stage/'))).toEqual([])
    })

    test('keyfleet validate exits 1 and says so', async () => {
        const run = await cli(['validate', '--keyless'], f.root)
        expect(run.code).toBe(1)
        expect(run.stdout).toContain('environments/keyfleet.yaml: error KF123 catalog missing:')
    })
})
