/**
 * Regressions found by the end-of-session review, each checked against the real sops where sops is
 * the oracle: a published demo recipient is never granted access outside the demo, KF107's advice
 * does not point at a command that discards values, JSON output refuses what encoding/json refuses,
 * long YAML keys switch to `? key` at yaml.v3's byte bound, and a directory as --identity-file is a
 * typed error.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { git, keyfleet } from '../helpers/cli.js'
import { repoRoot, sopsPath } from '../helpers/tools.js'
import { DEMO_RECIPIENTS } from '../../src/repo/demo.js'

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))
const DEV_KEY = join(repoRoot, 'examples', 'demo-keys', 'dev.agekey')
const DEV_RECIPIENT = 'age10czy7qhjq4g9ljnjh2cp65cva4v84909td9k2xymjtl4wxj58s9sg28plp'

const sops = (args: string[], cwd: string, input?: string): { code: number; out: Buffer } => {
    const r = spawnSync(sopsPath(), args, { cwd, input, env: { PATH: process.env.PATH, HOME: process.env.HOME, SOPS_AGE_KEY_FILE: DEV_KEY } })
    return { code: r.status ?? -1, out: r.stdout }
}

const encryptYaml = (dir: string, name: string, text: string): string => {
    writeFileSync(join(dir, `${name}.yaml`), text)
    const enc = sops(['encrypt', '--age', DEV_RECIPIENT, `${name}.yaml`], dir)
    expect(enc.code).toBe(0)
    writeFileSync(join(dir, `e.${name}.yaml`), enc.out)
    return `e.${name}.yaml`
}

describe('review regressions', () => {
    it('recipients add refuses a published demo recipient outside the demo; KF107 advice names recipients remove', async () => {
        const repo = tmp('keyfleet-review-')
        git(repo, 'init', '-q', '-b', 'main')
        const keys = tmp('keyfleet-review-keys-')
        expect((await keyfleet(['init', '--keys-dir', keys], { cwd: repo })).code).toBe(0)
        const before = readFileSync(join(repo, '.sops.yaml'), 'utf8')
        const demo = [...DEMO_RECIPIENTS.keys()][0] as string
        const add = await keyfleet(['recipients', 'add', 'prod', demo], { cwd: repo, env: { SOPS_AGE_KEY_FILE: join(keys, 'admin.agekey') } })
        expect(add.code).not.toBe(0)
        expect(add.stderr).toContain('[RECIPIENT_DEMO]')
        expect(readFileSync(join(repo, '.sops.yaml'), 'utf8')).toBe(before)
        // Planted by hand anyway: validate flags it and proposes removing the recipient, not starting over.
        const planted = before.replace(/\n(\s+)(- age1\S+ # admin)/, `\n$1$2\n$1- ${demo} # planted`)
        expect(planted).not.toBe(before)
        writeFileSync(join(repo, '.sops.yaml'), planted)
        const validate = await keyfleet(['validate', '--all', '--keyless'], { cwd: repo })
        expect(validate.stdout + validate.stderr).toContain('KF107')
        expect(validate.stdout + validate.stderr).toContain('keyfleet recipients remove')
    })

    it('--output-type json refuses ±Inf like sops (encoding/json), yaml prints it', async () => {
        const dir = tmp('keyfleet-review-inf-')
        const file = encryptYaml(dir, 'inf', 'z: .inf\n')
        expect(sops(['decrypt', '--output-type', 'json', file], dir).code).not.toBe(0)
        const json = await keyfleet(['decrypt', '--output-type', 'json', '--identity-file', DEV_KEY, file], { cwd: dir })
        expect(json.code).not.toBe(0)
        expect(json.stderr).toContain('[NATIVE_OUTPUT_UNSUPPORTED]')
        const yaml = await keyfleet(['decrypt', '--identity-file', DEV_KEY, file], { cwd: dir })
        expect(yaml.stdout).toBe(sops(['decrypt', file], dir).out.toString('utf8'))
    })

    it('a long key switches to `? key` at 128 bytes, not 128 characters, as yaml.v3 does', async () => {
        const dir = tmp('keyfleet-review-key-')
        for (const n of [64, 65]) {
            const file = encryptYaml(dir, `k${n}`, `"${'é'.repeat(n)}": 1\n`)
            const ours = await keyfleet(['decrypt', '--identity-file', DEV_KEY, file], { cwd: dir })
            expect(ours.stdout, `${n} × é`).toBe(sops(['decrypt', file], dir).out.toString('utf8'))
        }
    })

    it('a directory as --identity-file is a typed error, not an internal one', async () => {
        const dir = tmp('keyfleet-review-id-')
        const file = encryptYaml(dir, 'x', 'a: b\n')
        const run = await keyfleet(['decrypt', '--identity-file', dir, file], { cwd: dir })
        expect(run.code).toBe(2)
        expect(run.stderr).toContain('[IDENTITY_NOT_FOUND]')
        expect(run.stderr).not.toContain('internal error')
    })
})
