/** Recipients joining and leaving, and data-key rotation, checked with the real sops and the change report. */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addRecipient, listRecipients, removeRecipient, rotateDataKey } from '../../src/lifecycle/index.js'
import { changeReport } from '../../src/validate/index.js'
import { demoKey, git, makeDemoRepo } from '../helpers/cli.js'
import { dataKeyHex, identitiesOf, realDecrypt, recipientOfDemo, sopsWith } from './helpers.js'

const read = (repo: string, path: string): string => readFileSync(join(repo, path), 'utf8')

describe('recipients', () => {
    it('remove: the removed identity can no longer decrypt, the data key changed, .sops.yaml kept its comments', async () => {
        const repo = makeDemoRepo()
        const alice = await recipientOfDemo(repo, 'laptop-alice')
        await addRecipient({ root: repo, env: 'dev', recipient: alice, comment: 'admin:alice', sops: sopsWith(repo, 'admin') })
        expect(realDecrypt(repo, 'dev', demoKey(repo, 'laptop-alice')).code).toBe(0)
        const config = read(repo, '.sops.yaml')
        expect(config).toContain(`      - ${alice} # admin:alice\n  - path_regex: ^environments/stage/`)
        const keyBefore = await dataKeyHex(repo, 'dev', identitiesOf(repo, 'admin'))
        const valuesBefore = realDecrypt(repo, 'dev', demoKey(repo, 'admin')).values

        const removal = await removeRecipient({ root: repo, env: 'dev', recipient: alice, sops: sopsWith(repo, 'admin') })
        expect(removal).toMatchObject({ file: 'environments/dev/env.secrets', fileUpdated: true, rotated: true, removed: { recipient: alice, comment: 'admin:alice', ci: false } })
        expect([...removal.exposedNames].sort()).toEqual([...valuesBefore.keys()].sort())
        expect(read(repo, '.sops.yaml')).toBe(config.replace(`      - ${alice} # admin:alice\n`, ''))
        expect(read(repo, '.sops.yaml')).toBe(git(repo, 'show', 'HEAD:.sops.yaml'))

        expect(realDecrypt(repo, 'dev', demoKey(repo, 'laptop-alice')).code).toBe(128)
        expect(await dataKeyHex(repo, 'dev', identitiesOf(repo, 'admin'))).not.toBe(keyBefore)
        const after = realDecrypt(repo, 'dev', demoKey(repo, 'dev'))
        expect(after.code).toBe(0)
        expect(after.values).toEqual(valuesBefore)
    }, 60_000)

    it('a failed change (identity cannot open env.secrets) leaves .sops.yaml and env.secrets as they were', async () => {
        const repo = makeDemoRepo()
        const alice = await recipientOfDemo(repo, 'laptop-alice')
        const before = { config: read(repo, '.sops.yaml'), secrets: read(repo, 'environments/prod/env.secrets') }
        await expect(addRecipient({ root: repo, env: 'prod', recipient: alice, sops: sopsWith(repo, 'laptop-alice') }))
            .rejects.toMatchObject({ code: expect.stringMatching(/^SOPS_/) })
        const admin = await recipientOfDemo(repo, 'admin')
        await expect(removeRecipient({ root: repo, env: 'prod', recipient: admin, sops: sopsWith(repo, 'dev') }))
            .rejects.toMatchObject({ code: expect.stringMatching(/^SOPS_/) })
        expect({ config: read(repo, '.sops.yaml'), secrets: read(repo, 'environments/prod/env.secrets') }).toEqual(before)
        expect(git(repo, 'status', '--porcelain')).toBe('')
    }, 60_000)

    it('ls shows each role and whether env.secrets follows .sops.yaml', async () => {
        const repo = makeDemoRepo()
        const alice = await recipientOfDemo(repo, 'laptop-alice')
        const config = read(repo, '.sops.yaml')
        writeFileSync(join(repo, '.sops.yaml'), config.replace('# ci:stage\n', `# ci:stage\n      - ${alice} # admin:alice\n`))
        const rows = listRecipients(repo, ['dev', 'stage'])
        expect(rows.filter((r) => r.env === 'stage').map((r) => [r.role, r.inFile])).toEqual([['ci:stage', 'yes'], ['admin:alice', 'no'], ['admin', 'yes']])
        expect(rows.filter((r) => r.env === 'dev').map((r) => r.role)).toEqual(['ci:dev', 'admin'])
    })
})

describe('rotate', () => {
    it('gives a new data key; the change report shows every value re-encrypted and only metadata changed', async () => {
        const repo = makeDemoRepo()
        const admin = identitiesOf(repo, 'admin')
        const before = await dataKeyHex(repo, 'prod', admin)
        const values = realDecrypt(repo, 'prod', demoKey(repo, 'admin')).values
        await rotateDataKey(repo, 'prod', sopsWith(repo, 'prod'))
        expect(await dataKeyHex(repo, 'prod', admin)).not.toBe(before)
        expect(realDecrypt(repo, 'prod', demoKey(repo, 'prod')).values).toEqual(values)

        const report = await changeReport({ root: repo, base: 'HEAD', identities: { prod: admin } })
        const prod = report.environments.find((e) => e.env === 'prod')
        expect(prod).toMatchObject({ status: 'modified', added: [], removed: [], recipientsAdded: [], recipientsRemoved: [], metadataOnly: true, dataKeyRotated: true, hints: {} })
        expect([...(prod?.reencrypted ?? [])].sort()).toEqual([...values.keys()].sort())
        // Key-less (as in a pull request): same names, every ciphertext new, nothing added or removed.
        const keyless = (await changeReport({ root: repo, base: 'HEAD' })).environments.find((e) => e.env === 'prod')
        expect(keyless).toMatchObject({ added: [], removed: [], dataKeyRotated: true })
        expect(report.environments.filter((e) => e.env !== 'prod').every((e) => e.status === 'unchanged')).toBe(true)
    }, 60_000)

    it('refuses an environment without env.secrets', async () => {
        const repo = makeDemoRepo()
        git(repo, 'rm', '-q', 'environments/stage/env.secrets')
        await expect(rotateDataKey(repo, 'stage', sopsWith(repo, 'stage'))).rejects.toMatchObject({ code: 'ENV_NO_SECRETS' })
    })
})
