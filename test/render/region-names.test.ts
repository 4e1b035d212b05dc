/**
 * The variant naming rule (`NAME__REGION`, docs/catalog.md) survives every
 * store a name passes through, checked against oracles we did not write: the
 * real sops binary (dotenv store, encrypt then decrypt), the `dotenv` package,
 * and Kubernetes' own Secret-key and env-var-name rules (k8s.io/apimachinery
 * pkg/util/validation: configMapKeyFmt `[-._a-zA-Z0-9]+`, envVarNameFmt
 * `[-._a-zA-Z][-._a-zA-Z0-9]*`). Our readers (src/dotenv.ts, the loader's native
 * sops reader) must agree with them.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dotenv from 'dotenv'
import { afterAll, describe, expect, it } from 'vitest'
import { generateX25519Identity, identityToRecipient } from 'age-encryption'
import { parseVariant, REGION_PATTERN, variantName } from '../../src/catalog/index.js'
import { parseDotenvMap } from '../../src/dotenv.js'
import { openSops } from '../../src/loader/decrypt.js'
import { sopsPath } from '../helpers/tools.js'

const K8S_SECRET_KEY = /^[-._a-zA-Z0-9]+$/
const K8S_ENV_VAR = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/
const REGIONS = ['eu', 'us', 'us-east-1', 'ap-south-1', 'eu2']
const NAMES = ['OPENAI_API_KEY', 'OPENAI_API_KEY_2', 'ANTHROPIC_API_KEY', 'AGENT_GATEWAY_TOKEN']
const dir = mkdtempSync(join(tmpdir(), 'kf-region-names-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('regional variant names', () => {
    const stored = NAMES.flatMap((n) => REGIONS.map((r) => variantName(n, r)))
    const text = stored.map((n, i) => `${n}=value-${i}`).join('\n') + '\n'

    it('split back into the canonical name and region, one-to-one', () => {
        for (const n of NAMES) for (const r of REGIONS) expect(parseVariant(variantName(n, r))).toEqual({ name: n, region: r })
        expect(new Set(stored).size).toBe(stored.length)
        for (const r of REGIONS) expect(REGION_PATTERN.test(r)).toBe(true)
        for (const bad of ['EU', 'eu_west', 'eu-', '-eu', 'e u']) expect(REGION_PATTERN.test(bad)).toBe(false)
        expect(parseVariant('OPENAI_API_KEY')).toBeUndefined()
    })

    it('are valid Kubernetes Secret keys and environment variable names', () => {
        for (const n of stored) {
            expect(K8S_SECRET_KEY.test(n)).toBe(true)
            expect(K8S_ENV_VAR.test(n)).toBe(true)
            expect(n.length).toBeLessThanOrEqual(253)
        }
    })

    it('read the same through the dotenv package and our dotenv reader', () => {
        const theirs = dotenv.parse(text)
        const ours = parseDotenvMap(text, (line, why) => { throw new Error(`${line}: ${why}`) })
        expect(Object.keys(theirs)).toEqual(stored)
        expect(Object.fromEntries(ours)).toEqual(theirs)
    })

    it('survive sops (dotenv store) encrypt and decrypt, and our native reader agrees', async () => {
        const identity = await generateX25519Identity()
        writeFileSync(join(dir, 'plain.env'), text)
        const env = { SOPS_DISABLE_VERSION_CHECK: '1', HOME: dir, PATH: process.env.PATH ?? '' }
        const encrypted = execFileSync(sopsPath(), ['encrypt', '--age', await identityToRecipient(identity), '--input-type', 'dotenv', '--output-type', 'dotenv', join(dir, 'plain.env')], { cwd: dir, encoding: 'utf8', env })
        for (const n of stored) expect(encrypted).toContain(`${n}=ENC[`)
        writeFileSync(join(dir, 'enc.env'), encrypted)
        writeFileSync(join(dir, 'key.txt'), `${identity}\n`)
        const decrypted = execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', join(dir, 'enc.env')], { cwd: dir, encoding: 'utf8', env: { ...env, SOPS_AGE_KEY_FILE: join(dir, 'key.txt') } })
        expect(decrypted).toBe(text)
        const native = await openSops(encrypted, 'dotenv', { identity, identityFile: undefined }, 'enc.env')
        expect(Object.fromEntries(native)).toEqual(dotenv.parse(text))
    })
})
