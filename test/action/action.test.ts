/**
 * End-to-end: the committed bundle, run as the runner runs it, against a git
 * copy of the demo repository. The canary tests are the contract of issue 6:
 * masks come first, and no form of a value escapes anywhere but the
 * rendered Secret manifests.
 */
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { filesUnder, findLeaks, makeCanary } from '../helpers/canary.js'
import { commitAll, demoKey, expectMasksFirst, headCommit, leakHaystacks, makeSandbox, outputLines, runAction, type Sandbox, sopsSet } from './harness.js'

const sandboxes: Sandbox[] = []
const sandbox = (): Sandbox => {
    const sb = makeSandbox()
    sandboxes.push(sb)
    return sb
}
afterEach(() => {
    for (const sb of sandboxes.splice(0)) rmSync(sb.base, { recursive: true, force: true })
})

describe('keyfleet action: render', () => {
    it('masks the key and every value before any other output, and leaks a canary nowhere but the rendered Secrets', async () => {
        const sb = sandbox()
        const before = headCommit(sb)
        const canary = makeCanary()
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', canary)
        commitAll(sb, 'rotate OPENAI_API_KEY')

        const run = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'base-ref': before, 'out-dir': sb.outDir })
        expect(run.code, run.stdout + run.stderr).toBe(0)

        expectMasksFirst(run)
        expect(outputLines(run)[0]).toMatch(/^::add-mask::/)
        expect(outputLines(run)).toContain(`::add-mask::${canary}`)
        expect(outputLines(run)).toContain(`::add-mask::${Buffer.from(canary).toString('base64').replace(/=+$/, '')}`)

        // The Secrets of the agents that read OPENAI_API_KEY hold it (base64, as Kubernetes wants); nothing else does.
        const expected = ['agents-dev/secrets/research-agent.yaml', 'agents-dev/secrets/support-bot.yaml']
        const holders = Object.entries(filesUnder(sb.outDir)).filter(([, content]) => findLeaks(canary, { f: content }).length > 0).map(([p]) => relative(sb.outDir, p)).sort()
        expect(holders).toEqual(expected)
        for (const p of expected) expect(statSync(join(sb.outDir, p)).mode & 0o777).toBe(0o600)
        expect(findLeaks(canary, leakHaystacks(sb, run, (p) => expected.some((e) => p === join(sb.outDir, e))))).toEqual([])

        expect(readdirSync(sb.runnerTemp)).toEqual([])
        expect(run.outputs.changed).toBe('OPENAI_API_KEY')
        expect(run.outputs.findings).toBe('0')
        expect(run.outputs.generation).toMatch(/^[0-9a-f]{16}$/)
        const artifacts = (run.outputs.artifacts ?? '').split('\n')
        expect(artifacts).toContain(join(sb.outDir, 'bundles/alice-laptop.keys.age'))
        expect(artifacts.some((p) => p.includes('/secrets/'))).toBe(false)
        const agents = JSON.parse(run.outputs.agents ?? '[]') as { name: string; namespace: string | null; deployment: string | null; generation: string }[]
        expect(agents.find((a) => a.name === 'support-bot')).toMatchObject({ target: 'kubernetes', namespace: 'agents-dev', deployment: 'support-bot', generation: expect.stringMatching(/^[0-9a-f]{16}$/) })
        expect(agents.find((a) => a.name === 'alice-laptop')).toMatchObject({ target: 'bundle', namespace: null, deployment: null })
        expect(run.summary).toContain('OPENAI_API_KEY')
        expect(run.summary).toContain('support-bot')
    })

    it('renders without the change table, with a warning, when base-ref is not in the history (first push, force-push)', async () => {
        const sb = sandbox()
        const canary = makeCanary()
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', canary)
        // An agent whose Deployment has another name: the agents output carries it for the pod refresh.
        const file = join(sb.workspace, 'environments/dev/deployment.yaml')
        writeFileSync(file, readFileSync(file, 'utf8').replace('namespace: agents-dev\n    keys: [claude, openai]', 'namespace: agents-dev\n    deployment: chat-frontend\n    keys: [claude, openai]'))
        commitAll(sb, 'rotate, rename the Deployment')
        const zeros = '0000000000000000000000000000000000000000'

        const run = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'base-ref': zeros, 'out-dir': sb.outDir })
        expect(run.code, run.stdout + run.stderr).toBe(0)
        expect(run.stdout).toMatch(new RegExp(`^::warning title=keyfleet change table skipped::base-ref "${zeros}" is not in the fetched history`, 'm'))
        expect(run.stdout).not.toMatch(/^::error/m)
        expect(run.summary).toContain('Change table skipped')
        expect(run.outputs.changed).toBeUndefined()
        expect(existsSync(join(sb.outDir, 'agents-dev/secrets/support-bot.yaml'))).toBe(true)
        const agents = JSON.parse(run.outputs.agents ?? '[]') as unknown[]
        expect(agents).toContainEqual(expect.objectContaining({ name: 'support-bot', namespace: 'agents-dev', deployment: 'chat-frontend' }))
        expect(agents).toContainEqual(expect.objectContaining({ name: 'research-agent', namespace: 'agents-dev', deployment: 'research-agent' }))
        expectMasksFirst(run)
        const secrets = ['agents-dev/secrets/research-agent.yaml', 'agents-dev/secrets/support-bot.yaml'].map((p) => join(sb.outDir, p))
        expect(findLeaks(canary, leakHaystacks(sb, run, (p) => secrets.includes(p)))).toEqual([])
    })

    it('still fails diff on a base-ref that is not in the history: there the report is the point', async () => {
        const sb = sandbox()
        const run = await runAction(sb, { command: 'diff', 'base-ref': '0000000000000000000000000000000000000000' })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=GIT_FAILED::/m)
    })

    it('fails a tampered env.secrets with an error annotation on the file and leaves no plaintext', async () => {
        const sb = sandbox()
        const file = join(sb.workspace, 'environments/dev/env.secrets')
        const text = readFileSync(file, 'utf8')
        // Flip one character inside the first encrypted value's data.
        const tampered = text.replace(/ENC\[AES256_GCM,data:(.)/, (_m, c: string) => `ENC[AES256_GCM,data:${c === 'A' ? 'B' : 'A'}`)
        expect(tampered).not.toBe(text)
        writeFileSync(file, tampered)

        const run = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'out-dir': sb.outDir })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=[A-Z_]+,file=environments\/dev\/env\.secrets/m)
        expect(readdirSync(sb.runnerTemp)).toEqual([])
        expect(existsSync(sb.outDir) ? readdirSync(sb.outDir) : []).toEqual([])
        expect(run.outputs.rendered).toBeUndefined()
    })

    it('renders a dry run into RUNNER_TEMP and removes it when no out-dir is given', async () => {
        const sb = sandbox()
        const run = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev') })
        expect(run.code, run.stdout).toBe(0)
        expect(run.summary).toContain('Dry run')
        expect(run.outputs.rendered).toBeUndefined()
        expect(readdirSync(sb.runnerTemp)).toEqual([])
    })

    it('refuses an out-dir inside the repository checkout', async () => {
        const sb = sandbox()
        const run = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'out-dir': 'rendered' })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=ACTION_BAD_INPUT::ACTION_BAD_INPUT: out-dir must be outside the repository/m)
        expect(existsSync(join(sb.workspace, 'rendered'))).toBe(false)
    })

    it('does not print a malformed age-key, not even in the error', async () => {
        const sb = sandbox()
        const bogus = `AGE-SECRET-KEY-1${makeCanary('NOTBECH32')}`
        const run = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': bogus, 'out-dir': sb.outDir })
        expect(run.code).toBe(1)
        expectMasksFirst(run)
        expect(run.stdout).toMatch(/^::error title=AGE_BAD_IDENTITY_FILE::AGE_BAD_IDENTITY_FILE: the age-key input:1 is not an age identity/m)
        expect(findLeaks(bogus, leakHaystacks(sb, run))).toEqual([])
    })
})

describe('keyfleet action: validate and diff', () => {
    it('validates every environment without a key', async () => {
        const sb = sandbox()
        const run = await runAction(sb, { command: 'validate' })
        expect(run.code, run.stdout).toBe(0)
        expect(run.outputs.findings).toBe('0')
        expect(run.stdout).not.toContain('::add-mask::')
        expect(run.summary).toContain('Validation: all environments (key-less)')
    })

    it('annotates findings at their file and line and fails on errors', async () => {
        const sb = sandbox()
        const file = join(sb.workspace, 'environments/dev/deployment.yaml')
        writeFileSync(file, readFileSync(file, 'utf8').replace('keys: [openai]', 'keys: [no-such-service]'))
        const run = await runAction(sb, { command: 'validate', environment: 'dev' })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=KF\d+,file=environments\/dev\/deployment\.yaml,line=\d+::/m)
        expect(Number(run.outputs.findings)).toBeGreaterThan(0)
    })

    it('reports changed names key-less, with the agents affected, and never a value', async () => {
        const sb = sandbox()
        const base = headCommit(sb)
        const canary = makeCanary()
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', canary)
        commitAll(sb, 'rotate')
        const run = await runAction(sb, { command: 'diff', 'base-ref': base })
        expect(run.code, run.stdout).toBe(0)
        expect(run.outputs.changed).toBe('OPENAI_API_KEY')
        expect(run.summary).toMatch(/OPENAI_API_KEY/)
        expect(run.summary).toMatch(/research-agent/)
        expect(findLeaks(canary, leakHaystacks(sb, run))).toEqual([])
    })

    it('masks the values of the base revision too when the diff is keyed', async () => {
        const sb = sandbox()
        const old = makeCanary()
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', old)
        const base = commitAll(sb, 'old key')
        const fresh = makeCanary()
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', fresh)
        commitAll(sb, 'rotate')
        const run = await runAction(sb, { command: 'diff', environment: 'dev', 'age-key': demoKey('dev'), 'base-ref': base })
        expect(run.code, run.stdout).toBe(0)
        expectMasksFirst(run)
        expect(outputLines(run)).toContain(`::add-mask::${old}`)
        expect(outputLines(run)).toContain(`::add-mask::${fresh}`)
        expect(run.outputs.changed).toBe('OPENAI_API_KEY')
        expect(run.summary).toContain(`…${fresh.slice(-4)}`)
        expect(findLeaks(old, leakHaystacks(sb, run))).toEqual([])
        expect(findLeaks(fresh, leakHaystacks(sb, run))).toEqual([])
    })

    it('rejects an unknown command with an annotation and exit code 1', async () => {
        const sb = sandbox()
        const run = await runAction(sb, { command: 'deploy' })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(/^::error title=ACTION_BAD_INPUT::ACTION_BAD_INPUT: unknown command "deploy"/m)
    })
})
