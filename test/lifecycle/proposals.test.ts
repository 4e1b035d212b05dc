/**
 * Write-only proposals: made with public keys only, checked without keys,
 * folded with the environment's CI identity, read back with the real sops.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateIdentity, seal } from '../../src/age/index.js'
import { createProposal, foldProposals, openProposals } from '../../src/lifecycle/index.js'
import { checkProposalsKeyless } from '../../src/validate/index.js'
import { demoKey, makeDemoRepo } from '../helpers/cli.js'
import { catalogOf, identitiesOf, openaiKey, realDecrypt, sopsWith } from './helpers.js'

const secretsOf = (repo: string, env: string): string => readFileSync(join(repo, 'environments', env, 'env.secrets'), 'utf8')

describe('proposals', () => {
    it('a proposal sealed with the public key alone is folded with the CI key and decrypts with sops to the value', async () => {
        const repo = makeDemoRepo()
        const value = openaiKey()
        const made = await createProposal({ root: repo, env: 'dev', name: 'OPENAI_API_KEY', value })
        expect(made).toMatchObject({ file: 'environments/dev/proposals/OPENAI_API_KEY.age', ciOnly: true, replaced: false })
        expect(made.recipients).toEqual(['age10czy7qhjq4g9ljnjh2cp65cva4v84909td9k2xymjtl4wxj58s9sg28plp'])
        const text = readFileSync(join(repo, made.file), 'utf8')
        expect(text).not.toContain(value)
        // Only the CI identity opens it: the admin cannot read a proposal meant for CI.
        await expect(openProposals(repo, 'dev', identitiesOf(repo, 'admin'))).rejects.toMatchObject({ code: 'PROPOSAL_NO_IDENTITY' })
        expect(checkProposalsKeyless(repo, 'dev', catalogOf(repo))).toEqual([])

        const result = await foldProposals({ root: repo, env: 'dev', identities: identitiesOf(repo, 'dev'), sops: sopsWith(repo, 'dev'), catalog: catalogOf(repo) })
        expect(result.applied).toEqual(['OPENAI_API_KEY'])
        expect(result.hints.OPENAI_API_KEY).toContain(value.slice(-4))
        expect(existsSync(join(repo, made.file))).toBe(false)
        expect(existsSync(join(repo, 'environments/dev/proposals'))).toBe(false)
        const decrypted = realDecrypt(repo, 'dev', demoKey(repo, 'admin'))
        expect(decrypted.code).toBe(0)
        expect(decrypted.values.get('OPENAI_API_KEY')).toBe(value)
        expect(decrypted.values.get('ANTHROPIC_API_KEY')).toBeDefined() // the other keys are still there
    }, 60_000)

    it('folds several proposals at once, including a new pool member, and an env without env.secrets', async () => {
        const repo = makeDemoRepo()
        const a = openaiKey()
        const b = openaiKey()
        await createProposal({ root: repo, env: 'dev', name: 'OPENAI_API_KEY', value: a })
        await createProposal({ root: repo, env: 'dev', name: 'OPENAI_API_KEY_2', value: b })
        const result = await foldProposals({ root: repo, env: 'dev', identities: identitiesOf(repo, 'dev'), sops: sopsWith(repo, 'dev'), catalog: catalogOf(repo) })
        expect(result.applied).toEqual(['OPENAI_API_KEY', 'OPENAI_API_KEY_2'])
        const values = realDecrypt(repo, 'dev', demoKey(repo, 'dev')).values
        expect([values.get('OPENAI_API_KEY'), values.get('OPENAI_API_KEY_2')]).toEqual([a, b])

        rmSync(join(repo, 'environments/stage/env.secrets'))
        await createProposal({ root: repo, env: 'stage', name: 'OPENAI_API_KEY', value: a })
        const created = await foldProposals({ root: repo, env: 'stage', identities: identitiesOf(repo, 'stage'), sops: sopsWith(repo, 'stage'), catalog: catalogOf(repo) })
        expect(created.applied).toEqual(['OPENAI_API_KEY'])
        expect(realDecrypt(repo, 'stage', demoKey(repo, 'admin')).values).toEqual(new Map([['OPENAI_API_KEY', a]]))
    }, 60_000)

    it('refuses a bad value, a proposal moved to another environment, and a failed live check, changing nothing', async () => {
        const repo = makeDemoRepo()
        const options = { root: repo, identities: identitiesOf(repo, 'admin'), sops: sopsWith(repo, 'admin'), catalog: catalogOf(repo) }
        const before = { dev: secretsOf(repo, 'dev'), stage: secretsOf(repo, 'stage') }
        // Sealed to all recipients so the admin can open it.
        await createProposal({ root: repo, env: 'dev', name: 'GEMINI_API_KEY', value: 'not-a-gemini-key', allRecipients: true })
        await expect(foldProposals({ ...options, env: 'dev' })).rejects.toMatchObject({ code: 'PROPOSAL_REJECTED', message: expect.stringContaining('GEMINI_API_KEY') })
        expect(existsSync(join(repo, 'environments/dev/proposals/GEMINI_API_KEY.age'))).toBe(true)

        // A dev proposal copied into stage must not be applied there.
        await createProposal({ root: repo, env: 'dev', name: 'OPENAI_API_KEY', value: openaiKey(), allRecipients: true })
        mkdirSync(join(repo, 'environments/stage/proposals'))
        cpSync(join(repo, 'environments/dev/proposals/OPENAI_API_KEY.age'), join(repo, 'environments/stage/proposals/OPENAI_API_KEY.age'))
        await expect(foldProposals({ ...options, env: 'stage' })).rejects.toMatchObject({ code: 'PROPOSAL_MISPLACED' })

        await createProposal({ root: repo, env: 'stage', name: 'OPENAI_API_KEY', value: openaiKey(), allRecipients: true })
        const check = (name: string): { code: string; severity: 'error'; file: string; message: string }[] =>
            [{ code: 'KF900', severity: 'error', file: name, message: `${name} was rejected by the provider (401)` }]
        await expect(foldProposals({ ...options, env: 'stage', check })).rejects.toMatchObject({ code: 'PROPOSAL_REJECTED', message: expect.stringContaining('rejected by the provider') })
        expect({ dev: secretsOf(repo, 'dev'), stage: secretsOf(repo, 'stage') }).toEqual(before)
    }, 60_000)

    it('fold with no proposals changes nothing; fold with an identity that cannot open env.secrets leaves everything', async () => {
        const repo = makeDemoRepo()
        const before = secretsOf(repo, 'dev')
        const base = { root: repo, env: 'dev', catalog: catalogOf(repo) }
        expect(await foldProposals({ ...base, identities: identitiesOf(repo, 'dev'), sops: sopsWith(repo, 'dev') })).toEqual({ applied: [], removed: [], hints: {} })
        // The proposal is sealed to a stray key too; sops then runs with an identity that cannot open env.secrets.
        const stray = await generateIdentity()
        const { file } = await createProposal({ root: repo, env: 'dev', name: 'OPENAI_API_KEY', value: openaiKey() })
        const payload = JSON.stringify({ keyfleet: 'proposal/v1', env: 'dev', name: 'OPENAI_API_KEY', value: openaiKey(), created: new Date().toISOString() })
        writeFileSync(join(repo, file), await seal(payload, [stray.recipient]))
        await expect(foldProposals({ ...base, identities: [stray.identity], sops: sopsWith(repo, 'laptop-alice') })).rejects.toMatchObject({ code: expect.stringMatching(/^SOPS_/) })
        expect(secretsOf(repo, 'dev')).toBe(before)
        expect(existsSync(join(repo, file))).toBe(true)
    }, 60_000)

    describe('key-less check', () => {
        it('gives one finding per problem: bad age file, unknown name, alias name, plaintext key, stray file', async () => {
            const repo = makeDemoRepo()
            const dir = join(repo, 'environments/prod/proposals')
            const key = openaiKey()
            await createProposal({ root: repo, env: 'prod', name: 'OPENAI_API_KEY', value: openaiKey() })
            const good = readFileSync(join(dir, 'OPENAI_API_KEY.age'), 'utf8')
            writeFileSync(join(dir, 'ANTHROPIC_API_KEY.age'), 'this is not age\n')
            writeFileSync(join(dir, 'NOT_IN_CATALOG.age'), good)
            writeFileSync(join(dir, 'CLAUDE_API_KEY.age'), good)
            writeFileSync(join(dir, 'GEMINI_API_KEY.age'), `${good}# OPENAI_API_KEY=${key}\n`)
            writeFileSync(join(dir, 'notes.txt'), 'hello')
            const findings = checkProposalsKeyless(repo, 'prod', catalogOf(repo))
            const by = (file: string): string[] => findings.filter((f) => f.file === `environments/prod/proposals/${file}`).map((f) => f.code)
            expect(by('OPENAI_API_KEY.age')).toEqual([])
            expect(by('ANTHROPIC_API_KEY.age')).toEqual(['KF150'])
            expect(by('NOT_IN_CATALOG.age')).toEqual(['KF151'])
            expect(by('CLAUDE_API_KEY.age')).toEqual(['KF151'])
            expect(by('GEMINI_API_KEY.age')).toContain('KF152')
            expect(by('notes.txt')).toEqual(['KF153'])
            expect(findings.every((f) => f.severity === 'error')).toBe(true)
            expect(JSON.stringify(findings)).not.toContain(key)
        })

        it('finds a plaintext key hidden inside well-formed armor (an unencrypted payload)', async () => {
            const repo = makeDemoRepo()
            const key = openaiKey()
            const body = Buffer.from(`age-encryption.org/v1\n-> X25519 abc\nAAAA\n--- ${'A'.repeat(43)}\n{"value":"${key}"}`, 'latin1').toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
            mkdirSync(join(repo, 'environments/dev/proposals'))
            writeFileSync(join(repo, 'environments/dev/proposals/OPENAI_API_KEY.age'), `-----BEGIN AGE ENCRYPTED FILE-----\n${body}\n-----END AGE ENCRYPTED FILE-----\n`)
            const findings = checkProposalsKeyless(repo, 'dev', catalogOf(repo))
            expect(findings.map((f) => f.code)).toEqual(['KF152'])
            expect(findings[0]?.message).not.toContain(key)
        })
    })
})
