/** The smaller contracts: store by path, identity sources, key sources, not-sops files, metadata rules. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decryptSopsFile, identitiesFromEnv, parseSopsFile, storeForPath } from '../../../src/sops/native/index.js'
import { vector } from '../../helpers/tools.js'
import { newKey, sopsEncrypt } from './helpers.js'

describe('storeForPath', () => {
    it('follows sops by extension, env.secrets is dotenv', () => {
        expect(storeForPath('environments/prod/env.secrets')).toBe('dotenv')
        expect(storeForPath('a/.env')).toBe('dotenv') // sops tests the suffix, not the extension
        expect(storeForPath('x.env')).toBe('dotenv')
        expect(storeForPath('x.env.prod')).toBe('binary')
        expect(storeForPath('x.YML')).toBe('binary') // case-sensitive, like sops
        expect(storeForPath('x.yml')).toBe('yaml')
        expect(storeForPath('x.yaml')).toBe('yaml')
        expect(storeForPath('x.json')).toBe('json')
        expect(storeForPath('x.secrets')).toBe('binary')
    })
})

describe('identitiesFromEnv', () => {
    it('combines SOPS_AGE_KEY (whitespace separated, comments) and SOPS_AGE_KEY_FILE, like sops', async () => {
        const [a, b, c] = [await newKey(), await newKey('hybrid'), await newKey()]
        const files: Record<string, string> = { '/keys.txt': `# created: now\n# public key: ${c.recipient}\n${c.identity}\n\n${a.identity}\n` }
        const ids = identitiesFromEnv({ SOPS_AGE_KEY: `${a.identity} ${b.identity}\n# comment`, SOPS_AGE_KEY_FILE: '/keys.txt' }, (p) => files[p] as string)
        expect(ids).toEqual([a.identity, b.identity, c.identity])
        expect(identitiesFromEnv({}, () => { throw new Error('not called') })).toEqual([])
    })

    it('an identity from the file decrypts; several identities at once', async () => {
        const [a, b] = [await newKey(), await newKey('hybrid')]
        const text = sopsEncrypt('K=v\n', 'dotenv', [b.recipient])
        const d = await decryptSopsFile(text, { store: 'dotenv', identities: identitiesFromEnv({ SOPS_AGE_KEY: `${a.identity}\n${b.identity}` }, () => '') })
        expect(d.toEnvMap().get('K')).toBe('v')
    })
})

describe('typed errors', () => {
    it('NATIVE_NOT_SOPS for a plain file', async () => {
        expect(() => parseSopsFile('A=1\n', { store: 'dotenv', file: 'plain.env' })).toThrow(expect.objectContaining({ code: 'NATIVE_NOT_SOPS', file: 'plain.env' }))
        expect(() => parseSopsFile('a: 1\n', { store: 'yaml' })).toThrow(expect.objectContaining({ code: 'NATIVE_NOT_SOPS' }))
        await expect(decryptSopsFile('{"a":1}', { store: 'json', identities: [] })).rejects.toMatchObject({ code: 'NATIVE_NOT_SOPS' })
    })

    it('NATIVE_UNSUPPORTED_KEY_SOURCE when only PGP/KMS wrap the key', async () => {
        const text = readFileSync(vector('sops-nix-yaml/secrets.yaml'), 'utf8').replace(/^ {4}age:\n(?: {8}.*\n| {12}.*\n)+/m, '')
        const parsed = parseSopsFile(text, { store: 'yaml' })
        expect(parsed.metadata.age).toEqual([])
        await expect(decryptSopsFile(text, { store: 'yaml', identities: ['AGE-SECRET-KEY-1QXRVEJH9S4NQU0FPD6V79ESZQ8S6PXH3L8V40EVPTHFH6KNKD4DQ7SKC4P'], file: 's.yaml' }))
            .rejects.toMatchObject({ code: 'NATIVE_UNSUPPORTED_KEY_SOURCE', message: expect.stringContaining('pgp') })
    })

    it('NATIVE_MALFORMED names the line of a bad dotenv line without quoting it', () => {
        let error: unknown
        try { parseSopsFile('GOOD=1\nsk-secret-without-equals\n', { store: 'dotenv', file: 'e.env' }) } catch (e) { error = e }
        expect(error).toMatchObject({ code: 'NATIVE_MALFORMED', line: 2 })
        expect((error as Error).message).not.toContain('sk-secret')
    })

    it('NATIVE_MALFORMED when two selection rules are set', () => {
        const text = readFileSync(vector('flux-yaml-encrypted-regex/age.yaml'), 'utf8').replace('  lastmodified:', '  unencrypted_suffix: _x\n  lastmodified:')
        expect(() => parseSopsFile(text, { store: 'yaml' })).toThrow(expect.objectContaining({ code: 'NATIVE_MALFORMED' }))
    })

    it('NATIVE_NO_MATCHING_IDENTITY names the recipients, never the identity', async () => {
        const [a, b] = [await newKey(), await newKey()]
        const text = sopsEncrypt('K=v\n', 'dotenv', [a.recipient])
        const error = await decryptSopsFile(text, { store: 'dotenv', identities: [b.identity], file: 'x.env' }).catch((e: unknown) => e) as Error
        expect(error).toMatchObject({ code: 'NATIVE_NO_MATCHING_IDENTITY' })
        expect(error.message).toContain(a.recipient)
        expect(error.message).not.toContain(b.identity)
    })
})
