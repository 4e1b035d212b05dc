/**
 * A multi-line value (a PEM private key) end to end: `keyfleet set` (through the real sops) →
 * plain `sops decrypt` → `keyfleet render` → the Secret's base64 `data` decodes byte for byte, the
 * bundle opened with the real `age` CLI holds it exactly, and the loader serves it exactly from the
 * bundle and from a Secret volume written from the rendered Secret (the kubelet's file per key).
 */
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { loadCatalog } from '../../src/catalog/index.js'
import { openKeys } from '../../src/loader/index.js'
import { demoKey, git, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { sopsPath, toolPath } from '../helpers/tools.js'

const PEM = [
    '-----BEGIN PRIVATE KEY-----',
    'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7q+/=abcdefghij',
    'kLmNoPqRsTuVwXyZ0123456789+/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl',
    '-----END PRIVATE KEY-----',
].join('\n')

describe('render with a multi-line value', () => {
    it('PEM: set (sops) → render → Secret data, age bundle and loader give it back byte for byte', async () => {
        const repo = makeDemoRepo()
        // A custom secret with no format rule, read by a Kubernetes agent and by the bundle agent.
        appendFileSync(join(repo, 'environments/keyfleet.yaml'), '  SIGNING_PRIVATE_KEY:\n    service: signing\n    title: Signing key (PEM)\n')
        const deployment = join(repo, 'environments/dev/deployment.yaml')
        writeFileSync(deployment, readFileSync(deployment, 'utf8').replace('keys: [claude, openai]\n', 'keys: [claude, openai, signing]\n').replace('keys: [openai, claude]', 'keys: [openai, claude, signing]'))
        git(repo, 'add', '-A')
        git(repo, 'commit', '-q', '-m', 'signing key')

        const set = await keyfleet(['set', 'dev', 'SIGNING_PRIVATE_KEY'], { cwd: repo, stdin: `${PEM}\n`, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(set.code, set.stderr).toBe(0)
        const plain = JSON.parse(execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'json', 'environments/dev/env.secrets'], {
            cwd: repo, encoding: 'utf8', env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev'), PATH: process.env.PATH },
        })) as Record<string, string>
        expect(plain.SIGNING_PRIVATE_KEY).toBe(PEM)

        const out = join(mkdtempSync(join(tmpdir(), 'keyfleet-render-pem-')), 'out')
        const render = await keyfleet(['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
        expect(render.code, render.stderr).toBe(0)
        expect(render.stdout).toMatch(/^support-bot +kubernetes +agents-dev\/secrets\/support-bot\.yaml +3 /m)

        const secret = parseYaml(readFileSync(join(out, 'agents-dev/secrets/support-bot.yaml'), 'utf8')) as { data: Record<string, string> }
        expect(Buffer.from(secret.data.SIGNING_PRIVATE_KEY as string, 'base64')).toEqual(Buffer.from(PEM))

        const bundle = join(out, 'bundles/alice-laptop.keys.age')
        const opened = execFileSync(toolPath('age'), ['-d', '-i', demoKey(repo, 'laptop-alice'), bundle], { encoding: 'utf8' })
        expect((JSON.parse(opened) as { keys: Record<string, string> }).keys.SIGNING_PRIVATE_KEY).toBe(PEM)

        const catalog = loadCatalog(join(repo, 'environments/keyfleet.yaml'))
        {
            await using keys = await openKeys({ path: bundle, identityFile: demoKey(repo, 'laptop-alice'), env: {}, catalog, persistent: false })
            expect(keys.get('SIGNING_PRIVATE_KEY')).toBe(PEM)
        }
        // The Secret volume as the kubelet projects it: one file per data key, the decoded bytes.
        const volume = mkdtempSync(join(tmpdir(), 'keyfleet-volume-'))
        mkdirSync(volume, { recursive: true })
        for (const [name, value] of Object.entries(secret.data)) writeFileSync(join(volume, name), Buffer.from(value, 'base64'))
        {
            await using keys = await openKeys({ path: volume, env: {}, catalog, persistent: false })
            expect(keys.get('SIGNING_PRIVATE_KEY')).toBe(PEM)
            expect(keys.get('signing')).toBe(PEM)
        }
    })
})
