/**
 * Key-less rules on real sops-written files: KF100-KF106.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Finding } from '../../src/findings.js'
import { checkSecretsFile, parseSopsConfig, validateRepository } from '../../src/validate/index.js'
import { findLeaks } from '../helpers/canary.js'
import { makeFixture } from './fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
beforeAll(async () => { f = await makeFixture() })
afterAll(() => f.cleanup())

const config = (): ReturnType<typeof parseSopsConfig>['config'] => parseSopsConfig(f.read('.sops.yaml')).config
const codes = (findings: readonly Finding[]): string[] => findings.map((x) => x.code)

describe('env.secrets key-less rules', () => {
    test('a file sops wrote, encrypted to its rule, passes', () => {
        const check = checkSecretsFile(f.read('environments/prod/env.secrets'), 'environments/prod/env.secrets', config())
        expect(check.findings).toEqual([])
        expect(check.names.map((n) => n.name)).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'AGENT_GATEWAY_TOKEN', 'DEEPINFRA_API_KEY'])
    })

    test('KF101: a hand-edited line with a plaintext value is reported with its line, without the value', () => {
        const text = f.read('environments/dev/env.secrets')
        const lines = text.split('\n')
        const at = lines.findIndex((l) => l.startsWith('OPENAI_API_KEY='))
        const leaked = f.values.dev.OPENAI_API_KEY
        lines[at] = `OPENAI_API_KEY=${leaked}`
        const check = checkSecretsFile(lines.join('\n'), 'environments/dev/env.secrets', config())
        const kf101 = check.findings.filter((x) => x.code === 'KF101')
        expect(kf101).toHaveLength(1)
        expect(kf101[0]).toMatchObject({ file: 'environments/dev/env.secrets', line: at + 1, severity: 'error' })
        expect(kf101[0]?.message).toContain('OPENAI_API_KEY')
        expect(findLeaks(leaked, { findings: JSON.stringify(check.findings) })).toEqual([])
    })

    test('KF100: a file that is not SOPS dotenv is reported, and its plaintext lines still are (KF101)', () => {
        const check = checkSecretsFile('OPENAI_API_KEY=not-encrypted\n', 'environments/dev/env.secrets', config())
        expect(codes(check.findings)).toEqual(expect.arrayContaining(['KF100', 'KF101']))
        expect(JSON.stringify(check.findings)).not.toContain('not-encrypted')
    })

    test.each(['sops_mac=', 'sops_lastmodified=', 'sops_version=', 'sops_age__list_1__map_enc='])('KF102: metadata without the %s line is incomplete', (drop) => {
        const text = f.read('environments/dev/env.secrets').split('\n').filter((l) => !l.startsWith(drop)).join('\n')
        const check = checkSecretsFile(text, 'environments/dev/env.secrets', config())
        expect(codes(check.findings)).toEqual(['KF102'])
        expect(check.findings[0]?.message).toContain(drop.startsWith('sops_age') ? 'age entry 1' : drop.slice(0, -1))
    })

    test('KF103: a recipient added to .sops.yaml without updatekeys (stale recipient set)', () => {
        const sops = parseSopsConfig(`creation_rules:\n  - path_regex: ^environments/dev/\n    age: ${f.ids.dev.recipient}, ${f.ids.admin.recipient}, ${f.ids.stranger.recipient}\n`).config
        const check = checkSecretsFile(f.read('environments/dev/env.secrets'), 'environments/dev/env.secrets', sops)
        expect(codes(check.findings)).toEqual(['KF103'])
        expect(check.findings[0]?.message).toContain(f.ids.stranger.recipient)
    })

    test('KF104: a recipient removed from .sops.yaml without updatekeys still decrypts; reported with its line', () => {
        const sops = parseSopsConfig(`creation_rules:\n  - path_regex: environments/dev\n    age: [${f.ids.dev.recipient}]\n`).config
        const text = f.read('environments/dev/env.secrets')
        const check = checkSecretsFile(text, 'environments/dev/env.secrets', sops)
        expect(codes(check.findings)).toEqual(['KF104'])
        const line = text.split('\n')[(check.findings[0]?.line ?? 0) - 1]
        expect(line).toBe(`${line?.split('=')[0]}=${f.ids.admin.recipient}`)
    })

    test('KF105: no creation rule matches the path', () => {
        const sops = parseSopsConfig('creation_rules:\n  - path_regex: ^other/\n    age: age1x\n').config
        const check = checkSecretsFile(f.read('environments/dev/env.secrets'), 'environments/dev/env.secrets', sops)
        expect(codes(check.findings)).toEqual(['KF105'])
    })

    test('a file encrypted to a stale recipient set fails validateRepository (file re-encrypted by sops to old recipients)', async () => {
        // Re-encrypt dev with only the CI key while .sops.yaml still lists CI + admin.
        f.writeSopsConfig({ dev: [f.ids.dev.recipient] })
        f.encrypt('dev', f.values.dev)
        f.writeSopsConfig()
        const findings = await validateRepository({ root: f.root })
        expect(findings.filter((x) => x.file === 'environments/dev/env.secrets').map((x) => x.code)).toEqual(['KF103'])
        f.git('checkout', '--', 'environments/dev/env.secrets')
        expect(await validateRepository({ root: f.root })).toEqual([])
    })

    test('KF106: an environment of the catalog without env.secrets', async () => {
        rmSync(join(f.root, 'environments/prod/env.secrets'))
        const findings = await validateRepository({ root: f.root, environments: ['prod'] })
        expect(codes(findings)).toEqual(['KF106'])
        f.git('checkout', '--', 'environments/prod/env.secrets')
        expect(await validateRepository({ root: f.root, environments: ['prod'] })).toEqual([])
    })
})
