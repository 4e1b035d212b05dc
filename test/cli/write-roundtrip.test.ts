/**
 * Issue 12 item 2, "what goes in comes out": every writing command is followed
 * by plain `sops decrypt` (the oracle) on the file it wrote; values sops's
 * dotenv store cannot give back are refused with the file unchanged; a sops
 * that stores something else makes the write fail and restores the file.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import dotenv from 'dotenv'
import { describe, expect, it } from 'vitest'
import { openKeys } from '../../src/loader/index.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { sopsPath } from '../helpers/tools.js'

const DEV = 'environments/dev/env.secrets'
const STAGE = 'environments/stage/env.secrets'

/** Plain sops, both outputs: JSON (exact strings) and the dotenv text a person sees. */
const sopsDecrypt = (repo: string, file: string, key: string): { json: Record<string, string>; dotenv: string } => {
    const run = (type: string): string => execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', type, file], {
        cwd: repo, encoding: 'utf8', env: { SOPS_AGE_KEY_FILE: key, PATH: process.env.PATH },
    })
    return { json: JSON.parse(run('json')) as Record<string, string>, dotenv: run('dotenv') }
}

const PEM = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7', 'q+/=abc', '-----END PRIVATE KEY-----'].join('\n')
// A service-account key file as Google writes it: the private key's newlines are JSON escapes (backslash-n).
const SA = { type: 'service_account', private_key: `${PEM}\n`, client_email: 'a@b.iam' }
const JSON_SA = JSON.stringify(SA)
const JSON_PRETTY = JSON.stringify({ type: 'service_account', client_email: 'a@b.iam' }, null, 2)

describe('set', () => {
    it('multi-line values (PEM, JSON) into an existing and a new environment: sops decrypt, get and the loader give them back', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        rmSync(join(repo, STAGE))
        for (const [envName, file] of [['dev', DEV], ['stage', STAGE]] as const) {
            for (const [name, value] of [['GCP_PRIVATE_KEY', PEM], ['GCP_SA_JSON', JSON_SA], ['GCP_META', JSON_PRETTY], ['WIN_PATH', 'C:\\new\\logs']] as const) {
                const set = await keyfleet(['set', envName, name, '--allow-unknown'], { cwd: repo, stdin: `${value}\n`, env })
                expect(set.stderr).not.toContain('keyfleet set:')
                expect(set.code).toBe(0)
                const plain = sopsDecrypt(repo, file, demoKey(repo, envName))
                expect(plain.json[name]).toBe(value)
                // The dotenv text shows each newline as \n (sops reads it back as a newline); a one-line value as is.
                expect(plain.dotenv).toContain(`${name}=${value.replaceAll('\n', '\\n')}\n`)
                if (!value.includes('\n')) expect(plain.dotenv).toContain(`${name}=${value}\n`)
                const get = await keyfleet(['get', envName, name], { cwd: repo, env })
                expect(get.stdout).toBe(`${value}\n`)
            }
            await using keys = await openKeys({ path: join(repo, file), identityFile: demoKey(repo, envName), env: {} })
            expect(keys.get('GCP_PRIVATE_KEY')).toBe(PEM)
            expect(keys.get('GCP_SA_JSON')).toBe(JSON_SA)
            expect(JSON.parse(keys.get('GCP_SA_JSON') as string)).toEqual(SA)
            expect(keys.get('WIN_PATH')).toBe('C:\\new\\logs')
        }
    })

    it.each([
        ['a newline and a literal backslash-n', 'line1\nC:\\new', 'VALUE_NOT_CARRIABLE'],
        ['pretty-printed service-account JSON', JSON.stringify(SA, null, 2), 'VALUE_NOT_CARRIABLE'],
    ])('refuses %s, naming why, and changes nothing (existing and new file)', async (_what, value, code) => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const before = readFileSync(join(repo, DEV), 'utf8')
        const set = await keyfleet(['set', 'dev', 'WIN_PATH', '--allow-unknown'], { cwd: repo, stdin: value, env })
        expect(set.code).toBe(2)
        expect(set.stderr).toContain(code)
        expect(set.stderr).toContain('backslash followed by "n"')
        expect(set.stderr).not.toContain(value)
        expect(readFileSync(join(repo, DEV), 'utf8')).toBe(before)
        rmSync(join(repo, STAGE))
        expect((await keyfleet(['set', 'stage', 'WIN_PATH', '--allow-unknown'], { cwd: repo, stdin: value, env })).code).toBe(2)
        expect(existsSync(join(repo, STAGE))).toBe(false)
    })

    it('refuses invalid UTF-8 on stdin instead of storing U+FFFD', async () => {
        const repo = makeDemoRepo()
        const before = readFileSync(join(repo, DEV), 'utf8')
        const set = await keyfleet(['set', 'dev', 'RAW_TOKEN', '--allow-unknown'], {
            cwd: repo, stdin: Buffer.from([0x61, 0x62, 0xff, 0x63, 0x64]), env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') },
        })
        expect(set.code).toBe(2)
        expect(set.stderr).toContain('VALUE_NOT_UTF8')
        expect(readFileSync(join(repo, DEV), 'utf8')).toBe(before)
    })

    it('a sops that stores something else: SOPS_WRITE_MISMATCH, the previous file kept', async () => {
        const repo = makeDemoRepo()
        // A wrapper around the real sops that changes the value `set` receives on stdin.
        const fake = join(repo, 'lying-sops.sh')
        writeFileSync(fake, `#!/bin/sh\nif [ "$1" = set ]; then sed 's/a/b/' | "${sopsPath()}" "$@"; else exec "${sopsPath()}" "$@"; fi\n`)
        chmodSync(fake, 0o755)
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), KEYFLEET_SOPS: fake }
        for (const file of [DEV]) {
            const before = readFileSync(join(repo, file), 'utf8')
            const set = await keyfleet(['set', 'dev', 'SOME_TOKEN', '--allow-unknown'], { cwd: repo, stdin: 'value-with-a', env })
            expect(set.stderr).toContain('SOPS_WRITE_MISMATCH')
            expect(set.stderr).toContain('SOME_TOKEN')
            expect(set.stderr).not.toContain('value-with')
            expect(set.code).not.toBe(0)
            expect(readFileSync(join(repo, file), 'utf8')).toBe(before)
        }
    })
})

describe('import', () => {
    const SOURCE = [
        'DB_PASS=pw#tail', 'NOTE=value1 # fill', 'WIN=C:\\new\\logs', "LIT='line1\\nline2'", 'BACKTICK=`a # b`', 'MULTI=`line1', 'line2`',
        'ESC="a\\"b"', 'export EXP=1', `PEM="${PEM}"`, 'JSON_SA=\'{"a": 1,', '  "b": [2]}\'',
    ].join('\r\n')

    it('into a new environment: plain sops decrypt gives exactly what dotenv reads; --remove-source after the check', async () => {
        const repo = makeDemoRepo()
        rmSync(join(repo, STAGE))
        writeFileSync(join(repo, 'app.env'), SOURCE)
        const run = await keyfleet(['import', 'stage', 'app.env', '--allow-unknown', '--remove-source'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(run.stderr).not.toContain('keyfleet import:')
        expect(run.code).toBe(0)
        expect(sopsDecrypt(repo, STAGE, demoKey(repo, 'stage')).json).toEqual(dotenv.parse(Buffer.from(SOURCE)))
        expect(existsSync(join(repo, 'app.env'))).toBe(false)
    })

    it('into an existing environment: the other keys stay, the new ones are exact', async () => {
        const repo = makeDemoRepo()
        const before = sopsDecrypt(repo, DEV, demoKey(repo, 'dev')).json
        writeFileSync(join(repo, 'app.env'), SOURCE)
        const run = await keyfleet(['import', 'dev', 'app.env', '--allow-unknown'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(run.code).toBe(0)
        expect(sopsDecrypt(repo, DEV, demoKey(repo, 'dev')).json).toEqual({ ...before, ...dotenv.parse(Buffer.from(SOURCE)) })
    })

    it.each([
        ['a newline and a literal backslash-n', "A_PATH='C:\\temp\nC:\\new'\n", 'VALUE_NOT_CARRIABLE'],
        ['an empty value', 'OPENAI_API_KEY= # fill me in\n', 'VALUE_EMPTY'],
        ['interpolation', 'A_URL=${HOST}/x\n', 'IMPORT_BAD_LINE'],
        ['invalid UTF-8', Buffer.from([0x41, 0x3d, 0xff, 0x0a]), 'IMPORT_NOT_UTF8'],
    ])('refuses %s: nothing stored, the source kept', async (_what, content, code) => {
        const repo = makeDemoRepo()
        const before = readFileSync(join(repo, DEV), 'utf8')
        writeFileSync(join(repo, 'app.env'), content)
        const run = await keyfleet(['import', 'dev', 'app.env', '--allow-unknown', '--remove-source'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(run.code).toBe(2)
        expect(run.stderr).toContain(code)
        expect(existsSync(join(repo, 'app.env'))).toBe(true)
        expect(readFileSync(join(repo, DEV), 'utf8')).toBe(before)
    })
})

describe('edit', () => {
    const editor = (repo: string, line: string): string => {
        const path = join(repo, 'append-editor.sh')
        writeFileSync(path, `#!/bin/sh\necho '${line}' >> "$1"\n`)
        chmodSync(path, 0o755)
        return path
    }

    it('keeps a multi-line value it did not touch, and sops decrypt shows the edit', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        expect((await keyfleet(['set', 'dev', 'GCP_PRIVATE_KEY', '--allow-unknown'], { cwd: repo, stdin: PEM, env })).code).toBe(0)
        const run = await keyfleet(['edit', 'dev'], { cwd: repo, env: { ...env, EDITOR: editor(repo, 'ADDED_BY_EDIT=1') } })
        expect(run.code).toBe(0)
        const plain = sopsDecrypt(repo, DEV, demoKey(repo, 'dev')).json
        expect(plain.GCP_PRIVATE_KEY).toBe(PEM)
        expect(plain.ADDED_BY_EDIT).toBe('1')
    })

    it('a stored literal backslash-n that sops edit would turn into a newline is put back exactly (more in edit-session.test.ts)', async () => {
        const repo = makeDemoRepo()
        // Written with plain sops set (JSON value), as an older keyfleet did.
        const set = spawnSync(sopsPath(), ['set', '--input-type', 'dotenv', '--output-type', 'dotenv', '--value-stdin', DEV, '["WIN_PATH"]'], {
            cwd: repo, input: JSON.stringify('C:\\new\\logs'), env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), PATH: process.env.PATH },
        })
        expect(set.status).toBe(0)
        const run = await keyfleet(['edit', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: editor(repo, 'OTHER=1') } })
        expect(run.code, run.stderr).toBe(0)
        expect(run.stderr).toContain('kept WIN_PATH exactly')
        const plain = sopsDecrypt(repo, DEV, demoKey(repo, 'dev')).json
        expect(plain.WIN_PATH).toBe('C:\\new\\logs')
        expect(plain.OTHER).toBe('1')
    })
})

describe('refusals and mismatches never show the value', () => {
    it('canary: VALUE_NOT_CARRIABLE, SOPS_WRITE_MISMATCH (new file) print no form of it, leave no file behind', async () => {
        const { findLeaks, filesUnder, makeCanary } = await import('../helpers/canary.js')
        const repo = makeDemoRepo()
        const canary = makeCanary()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const before = filesUnder(join(repo, 'environments'))
        const refused = await keyfleet(['set', 'dev', 'CANARY_TOKEN', '--allow-unknown'], { cwd: repo, stdin: `${canary}\n\\n${canary}`, env })
        expect(refused.stderr).toContain('VALUE_NOT_CARRIABLE')
        // A sops whose encrypt drops a character: the new file is never written.
        rmSync(join(repo, STAGE))
        const fake = join(repo, 'lying-sops.sh')
        writeFileSync(fake, `#!/bin/sh\nif [ "$1" = encrypt ]; then sed 's/C/D/' | "${sopsPath()}" "$@"; else exec "${sopsPath()}" "$@"; fi\n`)
        chmodSync(fake, 0o755)
        const mismatch = await keyfleet(['set', 'stage', 'CANARY_TOKEN', '--allow-unknown'], { cwd: repo, stdin: canary, env: { ...env, KEYFLEET_SOPS: fake } })
        expect(mismatch.stderr).toContain('SOPS_WRITE_MISMATCH')
        expect(existsSync(join(repo, STAGE))).toBe(false)
        const after = filesUnder(join(repo, 'environments'))
        expect(Object.keys(after).sort()).toEqual(Object.keys(before).filter((f) => !f.endsWith('stage/env.secrets')).sort())
        expect(findLeaks(canary, { ...after, refusedOut: refused.stdout, refusedErr: refused.stderr, out: mismatch.stdout, err: mismatch.stderr })).toEqual([])
    })
})

describe('fold', () => {
    it('a sops that stores something else: SOPS_WRITE_MISMATCH, env.secrets and the proposal kept; a true sops folds it exactly', async () => {
        const { createProposal, foldProposals } = await import('../../src/lifecycle/index.js')
        const { catalogOf, identitiesOf, openaiKey, sopsWith } = await import('../lifecycle/helpers.js')
        const repo = makeDemoRepo()
        const value = openaiKey()
        const made = await createProposal({ root: repo, env: 'dev', name: 'OPENAI_API_KEY', value })
        const before = readFileSync(join(repo, DEV), 'utf8')
        const fake = join(repo, 'lying-sops.sh')
        writeFileSync(fake, `#!/bin/sh\nif [ "$1" = set ]; then sed 's/.$/"/; s/.\\(.\\)"$/\\1"/' | "${sopsPath()}" "$@"; else exec "${sopsPath()}" "$@"; fi\n`)
        chmodSync(fake, 0o755)
        const options = { root: repo, env: 'dev', identities: identitiesOf(repo, 'dev'), catalog: catalogOf(repo) }
        await expect(foldProposals({ ...options, sops: { ...sopsWith(repo, 'dev'), sopsPath: fake } })).rejects.toMatchObject({ code: 'SOPS_WRITE_MISMATCH' })
        expect(readFileSync(join(repo, DEV), 'utf8')).toBe(before)
        expect(existsSync(join(repo, made.file))).toBe(true)
        await foldProposals({ ...options, sops: sopsWith(repo, 'dev') })
        expect(sopsDecrypt(repo, DEV, demoKey(repo, 'dev')).json.OPENAI_API_KEY).toBe(value)
    }, 60_000)
})
