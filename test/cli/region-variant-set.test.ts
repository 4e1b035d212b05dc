/**
 * `keyfleet set <env> NAME__REGION` (issue 18): the command KF115 and
 * RENDER_REGION_VARIANT_MISSING propose stores a variant of a declared
 * region, format-checked like its global key; a variant of a region the
 * environment does not declare is refused. Real sops decrypts the result.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

const DEPLOYMENT = `environment: dev
regions:
  eu: {}
agents:
  - name: support-eu
    cloud: aws
    target: kubernetes
    namespace: agents-eu
    region: eu
    keys: [openai]
`
const secrets = (repo: string): Buffer => readFileSync(join(repo, 'environments/dev/env.secrets'))

describe('set of a regional variant', () => {
    it('stores a variant of a declared region, refuses an undeclared region and a bad format', async () => {
        const repo = makeDemoRepo()
        writeFileSync(join(repo, 'environments/dev/deployment.yaml'), DEPLOYMENT)
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const value = `sk-proj-${'e'.repeat(48)}`
        const ok = await keyfleet(['set', 'dev', 'OPENAI_API_KEY__EU'], { cwd: repo, env, stdin: value })
        expect(ok.code, ok.stderr).toBe(0)
        // The oracle: plain sops reads the variant back byte for byte.
        const plain = execFileSync('sops', ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', 'environments/dev/env.secrets'], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' })
        expect(plain.split('\n')).toContain(`OPENAI_API_KEY__EU=${value}`)
        expect(secrets(repo).toString()).toMatch(/^OPENAI_API_KEY__EU=ENC\[/m)
        const before = secrets(repo)
        const undeclared = await keyfleet(['set', 'dev', 'OPENAI_API_KEY__US'], { cwd: repo, env, stdin: value })
        expect(undeclared.code).not.toBe(0)
        expect(undeclared.stderr).toContain('NAME_REGION_UNDECLARED')
        const badFormat = await keyfleet(['set', 'dev', 'OPENAI_API_KEY__EU'], { cwd: repo, env, stdin: 'sk-proj-short' })
        expect(badFormat.code).not.toBe(0)
        expect(badFormat.stderr).toContain('VALUE_FORMAT')
        expect(secrets(repo)).toEqual(before)
    })
})
