/**
 * Bad input to the writing commands: each case gives a typed error with a
 * stable code, and env.secrets stays byte-for-byte what it was.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

const VALUE = 'sk-proj-BADINPUTabcdefghijklmnopqrstuvwxyz'
const SECRETS = 'environments/dev/env.secrets'

interface Case {
    readonly name: string
    readonly argv: string[]
    readonly code: string
    readonly exit: number
    readonly stdin?: string
    readonly env?: (repo: string) => Record<string, string | undefined>
    readonly prepare?: (repo: string) => void
}

const adminEnv = (repo: string): Record<string, string> => ({ SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') })

const cases: Case[] = [
    { name: 'wrong identity', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'SOPS_COULD_NOT_RETRIEVE_KEY', exit: 3, env: (r) => ({ SOPS_AGE_KEY_FILE: demoKey(r, 'laptop-alice') }) },
    {
        name: 'tampered file (MAC mismatch)', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'SOPS_MAC_MISMATCH', exit: 3,
        prepare: (r) => {
            // Flip one base64 character of the encrypted MAC: sops must refuse the file.
            const path = join(r, SECRETS)
            const text = readFileSync(path, 'utf8')
            const mac = /sops_mac=ENC\[AES256_GCM,data:([A-Za-z0-9+/]{4})/.exec(text)
            if (!mac?.[1]) throw new Error('no mac in fixture')
            const flipped = mac[1][0] === 'A' ? `B${mac[1].slice(1)}` : `A${mac[1].slice(1)}`
            writeFileSync(path, text.replace(`sops_mac=ENC[AES256_GCM,data:${mac[1]}`, `sops_mac=ENC[AES256_GCM,data:${flipped}`))
        },
    },
    { name: 'env.secrets that is not a SOPS file', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'NATIVE_MALFORMED', exit: 3, prepare: (r) => writeFileSync(join(r, SECRETS), 'garbage line\n') },
    { name: 'identity file that is not one (get)', argv: ['get', 'dev', 'OPENAI_API_KEY', '--identity-file', 'environments/keyfleet.yaml'], code: 'AGE_BAD_IDENTITY_FILE', exit: 2 },
    { name: 'identity file that is not one (decrypt)', argv: ['decrypt', SECRETS, '--identity-file', 'environments/keyfleet.yaml'], code: 'AGE_BAD_IDENTITY_FILE', exit: 2 },
    { name: 'sops missing', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'SOPS_MISSING', exit: 4, env: (r) => ({ ...adminEnv(r), KEYFLEET_SOPS: '/nonexistent/sops' }) },
    { name: 'unknown environment', argv: ['set', 'qa', 'OPENAI_API_KEY'], code: 'ENV_UNKNOWN', exit: 2 },
    { name: 'malformed .sops.yaml', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'SOPS_CONFIG_INVALID', exit: 2, prepare: (r) => writeFileSync(join(r, '.sops.yaml'), 'creation_rules:\n  - path_regex: [unclosed\n') },
    { name: 'no creation rule', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'SOPS_NO_CREATION_RULE', exit: 2, prepare: (r) => writeFileSync(join(r, '.sops.yaml'), 'creation_rules:\n  - path_regex: ^elsewhere/\n    age: age1kjtzx7zxsjl0nm50nvwmch68tc8r7kwn80gawllcf24lcz87f4hsc0w2ks\n') },
    // A value pasted after the name must not come back in the error.
    { name: 'name with = and a value after it', argv: ['set', 'dev', `OPENAI_API_KEY=${VALUE}`, '--allow-unknown'], code: 'NAME_INVALID', exit: 2 },
    { name: 'get of a pasted value instead of a name', argv: ['get', 'dev', VALUE], code: 'GET_NOT_FOUND', exit: 2 },
    { name: 'name with a newline', argv: ['set', 'dev', 'OPENAI\nAPI_KEY', '--allow-unknown'], code: 'NAME_INVALID', exit: 2 },
    { name: 'empty value', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'VALUE_EMPTY', exit: 2, stdin: '\n' },
    { name: 'multi-line value', argv: ['set', 'dev', 'OPENAI_API_KEY'], code: 'VALUE_MULTILINE', exit: 2, stdin: `${VALUE}\n${VALUE}\n` },
    { name: 'unset of an absent name', argv: ['unset', 'dev', 'DEEPINFRA_API_KEY'], code: 'SOPS_KEY_NOT_FOUND', exit: 2 },
    { name: 'value in argv is not an option', argv: ['set', 'dev', 'OPENAI_API_KEY', VALUE], code: 'USAGE', exit: 2 },
]

describe('bad input leaves env.secrets unchanged', () => {
    for (const c of cases) {
        it(c.name, async () => {
            const repo = makeDemoRepo()
            c.prepare?.(repo)
            const before = readFileSync(join(repo, SECRETS))
            const result = await keyfleet(c.argv, { cwd: repo, stdin: c.stdin ?? VALUE, env: (c.env ?? adminEnv)(repo) })
            expect(result.stderr).toContain(`[${c.code}]`)
            expect(result.code).toBe(c.exit)
            expect(result.stderr).not.toContain(VALUE)
            expect(result.stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(3)
            expect(readFileSync(join(repo, SECRETS))).toEqual(before)
        })
    }
})
