/**
 * `command: fold` end to end: a proposal made with public keys only (the
 * CLI's `keyfleet propose`, or the lifecycle API for values `propose`
 * refuses) is folded by the committed bundle, run as the runner runs it, with
 * the real sops on PATH as the deploy workflow installs it. The canary tests
 * are the contract: masks come first, and the proposed value reaches no file
 * but env.secrets, and that one only encrypted by sops.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseIdentityFile, recipientOf, seal } from '../../src/age/index.js'
import { createProposal, encodePayload } from '../../src/lifecycle/index.js'
import { keyfleet } from '../helpers/cli.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { sopsPath } from '../helpers/tools.js'
import { fakeProvider, startServer, type FakeServer } from '../probe/fake-provider.js'
import { type ActionRun, commitAll, demoKey, expectMasksFirst, leakHaystacks, makeSandbox, outputLines, pathWithSops, runAction, type Sandbox } from './harness.js'

const sandboxes: Sandbox[] = []
const servers: FakeServer[] = []
afterEach(async () => {
    for (const sb of sandboxes.splice(0)) rmSync(sb.base, { recursive: true, force: true })
    await Promise.all(servers.splice(0).map((s) => s.close()))
})
const sandbox = (): Sandbox => {
    const sb = makeSandbox()
    sandboxes.push(sb)
    return sb
}

const SECRETS = 'environments/dev/env.secrets'
const proposalOf = (name: string, env = 'dev'): string => `environments/${env}/proposals/${name}.age`
const read = (sb: Sandbox, path: string): string => readFileSync(join(sb.workspace, path), 'utf8')
const fold = (sb: Sandbox, inputs: Record<string, string> = {}, env: Record<string, string> = { PATH: pathWithSops() }): Promise<ActionRun> =>
    runAction(sb, { command: 'fold', environment: 'dev', 'age-key': demoKey('dev'), ...inputs }, env)

/** `keyfleet propose` as a proposer runs it: no identity anywhere in its environment. */
const propose = async (sb: Sandbox, name: string, value: string, env = 'dev'): Promise<void> => {
    const result = await keyfleet(['propose', env, name], { cwd: sb.workspace, stdin: `${value}\n`, env: { SOPS_AGE_KEY: undefined, SOPS_AGE_KEY_FILE: undefined } })
    expect(result.code, result.stderr).toBe(0)
}

/** Decrypts the sandbox's env.secrets with the reference sops binary. */
const decrypt = (sb: Sandbox, env = 'dev'): Map<string, string> => {
    const out = execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', `environments/${env}/env.secrets`], {
        cwd: sb.workspace, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: sb.base, SOPS_AGE_KEY: demoKey(env) },
    })
    return new Map(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]))
}

const git = (sb: Sandbox, ...args: string[]): string => execFileSync('git', args, { cwd: sb.workspace, encoding: 'utf8' })

/**
 * Asserts the run changed nothing in the checkout (env.secrets and every
 * proposal as committed) and did not report a change: `changed` is `false`,
 * or unset when the step failed with an error rather than findings.
 */
const expectUnchanged = (sb: Sandbox, run: ActionRun): void => {
    expect(git(sb, 'status', '--porcelain')).toBe('')
    expect(run.outputs.changed ?? 'false').toBe('false')
    expect(run.outputs.folded ?? '').toBe('')
}

describe('keyfleet action: fold', () => {
    it('folds a proposal made with the public key only; real sops decrypts the proposed value; the proposal is gone; the canary leaks nowhere', async () => {
        const sb = sandbox()
        const canary = makeCanary()
        const other = makeCanary()
        await propose(sb, 'OPENAI_API_KEY', canary)
        // An alias is stored under its canonical name, as `propose` resolves it.
        await propose(sb, 'CLAUDE_API_KEY', `sk-ant-api03-${other.slice(-40)}`)
        commitAll(sb, 'propose OPENAI_API_KEY and ANTHROPIC_API_KEY')
        const before = decrypt(sb)

        const run = await fold(sb)
        expect(run.code, run.stdout + run.stderr).toBe(0)
        expect(run.outputs.folded).toBe('ANTHROPIC_API_KEY,OPENAI_API_KEY')
        expect(run.outputs.changed).toBe('true')
        expect(run.outputs.findings).toBe('0')

        const after = decrypt(sb)
        expect(after.get('OPENAI_API_KEY')).toBe(canary)
        expect(after.get('ANTHROPIC_API_KEY')).toBe(`sk-ant-api03-${other.slice(-40)}`)
        // Every other value is untouched.
        for (const [name, value] of before) if (!['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'].includes(name)) expect(after.get(name)).toBe(value)

        // Exactly what the workflow commits: env.secrets modified, the proposals deleted.
        expect(git(sb, 'status', '--porcelain').split('\n').filter(Boolean).sort()).toEqual([
            ` D ${proposalOf('ANTHROPIC_API_KEY')}`, ` D ${proposalOf('OPENAI_API_KEY')}`, ` M ${SECRETS}`,
        ])
        expect(existsSync(join(sb.workspace, 'environments/dev/proposals'))).toBe(false)

        expectMasksFirst(run)
        expect(outputLines(run)[0]).toMatch(/^::add-mask::/)
        expect(outputLines(run)).toContain(`::add-mask::${canary}`)
        expect(outputLines(run)).toContain(`::add-mask::${Buffer.from(canary).toString('base64').replace(/=+$/, '')}`)
        expect(findLeaks(canary, leakHaystacks(sb, run))).toEqual([])
        expect(findLeaks(other, leakHaystacks(sb, run))).toEqual([])
        expect(readdirSync(sb.runnerTemp)).toEqual([])

        // The summary names what was applied, with the reviewers' hint.
        expect(run.summary).toContain('<h2>keyfleet fold</h2>')
        expect(run.summary).toMatch(new RegExp(`\\| OPENAI_API_KEY \\| openai, \\d+ chars, …${canary.slice(-4)} \\| \`${proposalOf('OPENAI_API_KEY')}\` \\|`))
    })

    it('succeeds without changing anything when there are no proposals', async () => {
        const sb = sandbox()
        const run = await fold(sb)
        expect(run.code, run.stdout + run.stderr).toBe(0)
        expectUnchanged(sb, run)
        expect(run.summary).toContain('No proposals in `environments/dev/proposals/`.')
    })

    it('fails on a malformed proposal with an annotation at the file, and applies none of the good ones', async () => {
        const sb = sandbox()
        const canary = makeCanary()
        await propose(sb, 'OPENAI_API_KEY', canary)
        writeFileSync(join(sb.workspace, proposalOf('GEMINI_API_KEY')), '-----BEGIN AGE ENCRYPTED FILE-----\nbm90IGFnZQ==\n-----END AGE ENCRYPTED FILE-----\n')
        commitAll(sb, 'one good, one malformed')

        const run = await fold(sb)
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(new RegExp(`^::error title=KF150,file=${proposalOf('GEMINI_API_KEY').replace(/\./g, '\\.')}::`, 'm'))
        expectUnchanged(sb, run)
        expect(decrypt(sb).get('OPENAI_API_KEY')).not.toBe(canary)
        expectMasksFirst(run)
        expect(findLeaks(canary, leakHaystacks(sb, run))).toEqual([])
    })

    it('fails on a foreign proposal (sealed for another environment) with an annotation, and changes nothing', async () => {
        const sb = sandbox()
        const canary = makeCanary()
        await propose(sb, 'OPENAI_API_KEY', makeCanary())
        // Sealed to the dev CI recipient, but made for stage: copying proposals between environments is refused.
        const devRecipient = await recipientOf(parseIdentityFile(demoKey('dev'))[0] as string)
        const foreign = await seal(encodePayload({ env: 'stage', name: 'GEMINI_API_KEY', value: canary, created: new Date().toISOString() }), [devRecipient])
        writeFileSync(join(sb.workspace, proposalOf('GEMINI_API_KEY')), foreign)
        commitAll(sb, 'a foreign proposal')

        const run = await fold(sb)
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(new RegExp(`^::error title=PROPOSAL_MISPLACED,file=${proposalOf('GEMINI_API_KEY').replace(/\./g, '\\.')}::`, 'm'))
        expectUnchanged(sb, run)
        expect(findLeaks(canary, leakHaystacks(sb, run))).toEqual([])
    })

    it('fails with PROPOSAL_NO_IDENTITY on a proposal sealed to another environment\'s CI recipient', async () => {
        const sb = sandbox()
        await propose(sb, 'OPENAI_API_KEY', makeCanary(), 'prod')
        const dir = join(sb.workspace, 'environments/dev/proposals')
        execFileSync('mkdir', ['-p', dir])
        writeFileSync(join(dir, 'OPENAI_API_KEY.age'), read(sb, proposalOf('OPENAI_API_KEY', 'prod')))
        commitAll(sb, 'prod proposal copied to dev')

        const run = await fold(sb)
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=PROPOSAL_NO_IDENTITY,file=environments\/dev\/proposals\/OPENAI_API_KEY\.age::/m)
        expectUnchanged(sb, run)
    })

    it('rejects a value that fails its format rule or is a placeholder (KF141/KF142 at the file), applying nothing', async () => {
        const sb = sandbox()
        const canary = `not-an-openai-key-${makeCanary().slice(-32)}`
        // `keyfleet propose` refuses these values; the lifecycle API (what a hand-made file amounts to) does not.
        await createProposal({ root: sb.workspace, env: 'dev', name: 'OPENAI_API_KEY', value: canary })
        await createProposal({ root: sb.workspace, env: 'dev', name: 'GEMINI_API_KEY', value: 'changeme' })
        commitAll(sb, 'bad values')

        const run = await fold(sb)
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=KF141,file=environments\/dev\/proposals\/OPENAI_API_KEY\.age::the value for OPENAI_API_KEY/m)
        expect(run.stdout).toMatch(/^::error title=KF142,file=environments\/dev\/proposals\/GEMINI_API_KEY\.age::the value for GEMINI_API_KEY .*placeholder/m)
        expect(run.summary).toContain('Nothing was applied: 2 proposal(s) stay in `environments/dev/proposals/`.')
        expectUnchanged(sb, run)
        expectMasksFirst(run)
        expect(outputLines(run)).toContain(`::add-mask::${canary}`)
        expect(findLeaks(canary, leakHaystacks(sb, run))).toEqual([])
    })

    it('with live: true, a key its provider rejects is not applied; an accepted one is', async () => {
        const sb = sandbox()
        const canary = makeCanary()
        await propose(sb, 'OPENAI_API_KEY', canary)
        commitAll(sb, 'propose')
        const server = await startServer(fakeProvider('openai', []))
        servers.push(server)

        const rejected = await fold(sb, { live: 'true', 'base-urls': `openai=${server.url}` })
        expect(rejected.code).toBe(1)
        expect(server.seen).toHaveLength(1)
        expect(rejected.stdout).toMatch(/^::error title=KF500,file=environments\/dev\/proposals\/OPENAI_API_KEY\.age::OPENAI_API_KEY \(openai, /m)
        expectUnchanged(sb, rejected)
        expectMasksFirst(rejected)
        expect(findLeaks(canary, leakHaystacks(sb, rejected))).toEqual([])

        const good = await startServer(fakeProvider('openai', [canary]))
        servers.push(good)
        const accepted = await fold(sb, { live: 'true', 'base-urls': `openai=${good.url}` })
        expect(accepted.code, accepted.stdout).toBe(0)
        expect(accepted.outputs.folded).toBe('OPENAI_API_KEY')
        expect(accepted.summary).toMatch(/\| `OPENAI_API_KEY` \| openai \| ✅ valid \| 200 \|/)
        expect(decrypt(sb).get('OPENAI_API_KEY')).toBe(canary)
        expect(findLeaks(canary, leakHaystacks(sb, accepted))).toEqual([])
    })

    it('without sops on PATH fails with SOPS_MISSING and changes nothing', async () => {
        const sb = sandbox()
        await propose(sb, 'OPENAI_API_KEY', makeCanary())
        commitAll(sb, 'propose')
        const run = await fold(sb, {}, { PATH: join(sb.base, 'no-tools') })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=SOPS_MISSING/m)
        expectUnchanged(sb, run)
    })

    it('needs the environment and age-key inputs', async () => {
        const sb = sandbox()
        const noKey = await runAction(sb, { command: 'fold', environment: 'dev' })
        expect(noKey.code).toBe(1)
        expect(noKey.stdout).toMatch(/^::error title=ACTION_BAD_INPUT::ACTION_BAD_INPUT: command "fold" needs the age-key input/m)
        const noEnv = await runAction(sb, { command: 'fold' })
        expect(noEnv.stdout).toMatch(/command "fold" needs the environment input/)
    })
})
