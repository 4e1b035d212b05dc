/** Every public vector decrypts to the plaintext its README documents, the post-quantum one included. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decryptSopsFile, formatDecrypted, identitiesFromText, parseSopsFile, storeForPath } from '../../../src/sops/native/index.js'
import { vector } from '../../helpers/tools.js'

const load = async (file: string, keyFile: string) => {
    const path = vector(file)
    return decryptSopsFile(readFileSync(path, 'utf8'), { store: storeForPath(path), identities: identitiesFromText(readFileSync(vector(keyFile), 'utf8')), file })
}

describe('public sops vectors', () => {
    it('sops-age-dotenv: three recipients, escaped armor', async () => {
        const d = await load('sops-age-dotenv/secret.enc.env', 'sops-age-dotenv/key.txt')
        expect([...d.toEnvMap()]).toEqual([['secret', 'this is a secret'], ['another_secret', '7']])
        expect(formatDecrypted(d)).toBe('secret=this is a secret\nanother_secret=7\n')
        expect(d.metadata.age).toHaveLength(3)
        expect(d.metadata.age[0]?.enc.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n')).toBe(true)
    })

    it('flux-dotenv', async () => {
        expect(formatDecrypted(await load('flux-dotenv/env.env', 'flux-dotenv/age.txt'))).toBe('key=value\n')
    })

    it('sops-age-yaml: nesting, list without index in the AAD, int/float/bool', async () => {
        const d = await load('sops-age-yaml/secret.enc.yaml', 'sops-age-yaml/key.txt')
        expect(d.tree).toEqual({ secret: 'this is a secret', string: 'string', int: 7, float: 3.14, boolean: true, complex: { value: 'this is a secret', array: ['one', 'two', 'three'] } })
    })

    it('sops-age-json: equals the published secret.json (int stored as float)', async () => {
        const d = await load('sops-age-json/secret.enc.json', 'sops-age-json/key.txt')
        expect(d.tree).toEqual(JSON.parse(readFileSync(vector('sops-age-json/secret.json'), 'utf8')))
    })

    it('sops-nix-yaml: age next to pgp', async () => {
        const d = await load('sops-nix-yaml/secrets.yaml', 'sops-nix-yaml/age-keys.txt')
        expect(d.tree).toMatchObject({ test_key: 'test_value', a_list: ['e1', 'e3'], nested: { test: { file: 'another value' } } })
        expect(d.metadata.otherKeySources).toEqual(['pgp'])
    })

    it('flux-yaml-encrypted-regex: plaintext fields are in the MAC', async () => {
        const d = await load('flux-yaml-encrypted-regex/age.yaml', 'flux-yaml-encrypted-regex/age.txt')
        expect(d.tree).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'age' }, stringData: { key: 'value' } })
        expect(d.metadata.selection).toEqual({ kind: 'encrypted_regex', value: '^(data|stringData)$' })
    })

    it('flux-binary: the {"data": …} envelope with AAD data:', async () => {
        const d = await load('flux-binary/file.txt', 'flux-binary/age.txt')
        expect(d.tree).toBe('value')
        expect(formatDecrypted(d)).toBe('value')
    })

    it('flux-yaml-age-pq: ML-KEM-768 hybrid recipient', async () => {
        const d = await load('flux-yaml-age-pq/age-pq.yaml', 'flux-yaml-age-pq/age-pq.txt')
        expect(d.metadata.age[0]?.recipient.startsWith('age1pq1')).toBe(true)
        expect(d.tree).toMatchObject({ stringData: { key: 'value' } })
    })

    it('parses metadata and leaves without any key', () => {
        const path = vector('flux-yaml-encrypted-regex/age.yaml')
        const parsed = parseSopsFile(readFileSync(path, 'utf8'), { store: 'yaml', file: path })
        expect(parsed.metadata.version).toBe('3.9.0')
        expect(parsed.metadata.lastmodified).toMatch(/^\d{4}-\d\d-\d\dT/)
        expect(parsed.leaves.map((l) => [l.path.join('.'), l.encrypted])).toEqual([
            ['apiVersion', false], ['kind', false], ['metadata.name', false], ['stringData.key', true],
        ])
        expect(parsed.leaves[3]?.raw.startsWith('ENC[AES256_GCM,')).toBe(true)
        expect(parsed.leaves[3]?.line).toBe(6)
        const dotenv = parseSopsFile(readFileSync(vector('sops-age-dotenv/secret.enc.env'), 'utf8'), { store: 'dotenv' })
        expect(dotenv.leaves.map((l) => [l.path, l.line])).toEqual([[['secret'], 1], [['another_secret'], 2]])
        expect(dotenv.metadata.selection).toEqual({ kind: 'unencrypted_suffix', value: '_unencrypted' })
    })

    it('rejects a vector with the wrong identity, naming the recipients', async () => {
        const err = await load('flux-dotenv/env.env', 'sops-age-yaml/key.txt').catch((e: unknown) => e)
        expect(err).toMatchObject({ code: 'NATIVE_NO_MATCHING_IDENTITY' })
        expect((err as Error).message).toContain('age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29')
    })
})
