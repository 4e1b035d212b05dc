/**
 * The scan rules issue 13.8 added: age identities (demo ones allowed by
 * fingerprint, not path), content-checked `.age` files, armor blocks skipped
 * only when well-formed, `keyfleet:allow <rule>`, plaintext Kubernetes
 * Secrets in `scan --staged`, and high-entropy `*_KEY/_TOKEN/_SECRET` values.
 * Identities come from age-encryption and armor from the real `age` CLI.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateHybridIdentity, generateX25519Identity } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { builtinCatalog } from '../../src/catalog/index.js'
import { createScanner, scanForPlaintextKeys } from '../../src/validate/index.js'
import { PUBLISHED_DEMO_IDENTITIES, identityFingerprint } from '../../src/validate/scan-rules.js'
import { findLeaks } from '../helpers/canary.js'
import { repoRoot, toolPath } from '../helpers/tools.js'
import { alnum, fakeKey, makeFixture } from './fixture.js'

const scanner = createScanner(builtinCatalog)
const rules = (text: string, file = 'x.txt'): string[] => scanner.scanText(text, file).map((f) => /\(rule ([a-z0-9-]+)\)/.exec(f.message)?.[1] ?? '?')
const ageArmor = (plain: string): string => {
    const demo = readFileSync(join(repoRoot, 'examples/demo-keys/dev.agekey'), 'utf8')
    const recipient = /public key: (age1\S+)/.exec(demo)?.[1] ?? ''
    return execFileSync(toolPath('age'), ['-a', '-r', recipient], { input: plain, encoding: 'utf8' })
}

describe('scan rules (issue 13.8)', () => {
    test('an age identity is found (X25519 and PQ), never quoted; the published demo identities are allowed by fingerprint', async () => {
        const x25519 = await generateX25519Identity()
        const pq = await generateHybridIdentity()
        expect(pq.startsWith('AGE-SECRET-KEY-PQ-1')).toBe(true)
        const found = scanner.scanText(`# created: now\n${x25519}\nSOPS_AGE_KEY=${pq}\n`, 'ci.env')
        expect(found.map((f) => f.line)).toEqual([2, 3])
        expect(findLeaks(x25519, { out: JSON.stringify(found) })).toEqual([])
        expect(findLeaks(pq, { out: JSON.stringify(found) })).toEqual([])
        const demoDir = join(repoRoot, 'examples/demo-keys')
        for (const file of readdirSync(demoDir)) {
            const text = readFileSync(join(demoDir, file), 'utf8')
            const identity = /AGE-SECRET-KEY-1\S+/.exec(text)?.[0] ?? ''
            expect(PUBLISHED_DEMO_IDENTITIES.has(identityFingerprint(identity))).toBe(true)
            // Allowed by what it is, wherever it is: a copy in ci.env is fine, another key in a demo path is not.
            expect(scanner.scanText(text, 'ci.env')).toEqual([])
        }
        expect(scanner.scanText(`${x25519}\n`, 'examples/demo-keys/dev.agekey')).toHaveLength(1)
    })

    test('a stray armor BEGIN line hides nothing; a well-formed block made by age is skipped', () => {
        const key = fakeKey.gemini()
        expect(rules(`-----BEGIN AGE ENCRYPTED FILE-----\n${key}\n-----END AGE ENCRYPTED FILE-----\n`)).toEqual(['gemini'])
        expect(rules(`-----BEGIN AGE ENCRYPTED FILE-----\nnotes\n${key}\n`)).toEqual(['gemini'])
        expect(rules(`enc=-----BEGIN AGE ENCRYPTED FILE-----\\nAAAA\\n-----END AGE ENCRYPTED FILE-----\\n ${key}`)).toEqual(['gemini'])
        const armor = ageArmor(`${key}\n`)
        expect(rules(armor)).toEqual([])
        const indented = armor.trimEnd().split('\n').map((l) => `        ${l}`).join('\n')
        expect(rules(`sops:\n    age:\n      - enc: |\n${indented}\nafter: ${key}\n`, 'x.yaml')).toEqual(['gemini'])
        expect(rules(`sops_age__list_0__map_enc=${armor.replace(/\n/g, '\\n')}\n`)).toEqual([])
    })

    test('keyfleet:allow <rule> silences only the rules it names; a bare marker silences nothing', () => {
        const line = `a = "${fakeKey.openai()}" b = "${fakeKey.claude()}"`
        expect(rules(`${line} # keyfleet:allow openai\n`)).toEqual(['claude'])
        expect(rules(`${line} # keyfleet:allow openai, claude\n`)).toEqual([])
        expect(rules(`${line} # keyfleet:allow\n`)).toEqual(['openai', 'claude'])
        expect(rules(`${line} # keyfleet:allow age-identity\n`)).toEqual(['openai', 'claude'])
    })

    test('generic tokens: a high-entropy value for a *_KEY/_TOKEN/_SECRET name; not words, paths or placeholders', () => {
        for (const name of ['ACME_TOKEN', 'MY_SERVICE_SECRET', 'apiKey', 'x-auth-token', 'SOME_API_KEY']) {
            expect(rules(`${name}=${alnum(32)}\n`)).toEqual(['generic-token'])
            expect(rules(`"${name}": "${alnum(40)}",\n`, 'x.json')).toEqual(['generic-token'])
        }
        for (const value of ['process.env.OPENAI_API_KEY', 'your-api-key-goes-here', 'environments/dev/env.secrets', 'ENVIRONMENT_VARIABLE_NAME_HERE', '${{ secrets.TOKEN }}', 'changeme']) {
            expect(rules(`SOME_API_KEY=${value}\n`)).toEqual([])
        }
        expect(rules(`CHECKSUM=${alnum(32)}\n`)).toEqual([])
    })

    describe('files', () => {
        let f: Awaited<ReturnType<typeof makeFixture>>
        beforeAll(async () => { f = await makeFixture() })
        afterAll(() => f.cleanup())

        test('a .age file is skipped for what it holds, never for its name; a staged plaintext Secret is a finding', async () => {
            const key = fakeKey.claude()
            f.write('real.age', ageArmor(`${key}\n`))
            f.write('fake.age', `${key}\n`)
            const tail = ageArmor('x')
            f.write('tail.age', `${tail}${key}\n`)
            f.write('out/secret.yaml', `apiVersion: v1\nkind: Secret\nmetadata:\n  name: llm\ntype: Opaque\ndata:\n  OPENAI_API_KEY: ${Buffer.from('x'.repeat(40)).toString('base64')}\n`)
            f.write('out/enc.yaml', `apiVersion: v1\nkind: Secret\ndata:\n  K: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  version: 3.9.0\n`)
            f.write('out/cm.yaml', 'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n')
            f.git('add', 'real.age', 'fake.age', 'tail.age', 'out')
            const staged = await scanForPlaintextKeys({ root: f.root, scope: { kind: 'staged' }, catalog: builtinCatalog })
            expect(staged.map((x) => [x.file, x.line])).toEqual([['fake.age', 1], ['out/secret.yaml', 7], ['tail.age', tail.split('\n').length]])
            expect(staged[1]?.message).toContain('rule k8s-secret')
            expect(findLeaks(key, { out: JSON.stringify(staged) })).toEqual([])
            f.git('reset', '-q')
        })
    })
})
