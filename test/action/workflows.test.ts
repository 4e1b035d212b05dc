/**
 * The workflows and the action metadata: actionlint finds nothing, and the
 * security rules a reviewer relies on hold (pinned actions, no secrets or
 * pull_request_target in PR checks, minimal permissions, gated promotion).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { repoRoot, toolPath } from '../helpers/tools.js'
import { BOT_EMAIL } from '../../src/action/deploy/constants.js'
import { makeSandbox, runAction } from './harness.js'

const workflowsDir = join(repoRoot, '.github', 'workflows')
const actionDir = join(repoRoot, '.github', 'actions', 'keyfleet')
const workflows = readdirSync(workflowsDir).filter((f) => f.endsWith('.yml'))
type Yaml = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const load = (file: string): Yaml => parse(readFileSync(file, 'utf8')) as Yaml
const text = (name: string): string => readFileSync(join(workflowsDir, name), 'utf8')
/** A workflow without its comment lines: what runs. */
const codeOf = (name: string): string => text(name).split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n')

const actionlint = (): string => toolPath('actionlint')

describe('workflows', () => {
    it('pass actionlint v1.7.12 (which also checks the local action metadata they use)', () => {
        const result = spawnSync(actionlint(), ['-no-color', ...workflows.map((f) => join('.github', 'workflows', f))], { cwd: repoRoot, encoding: 'utf8' })
        expect(result.stdout + result.stderr).toBe('')
        expect(result.status).toBe(0)
    })

    it('pin every third-party action to a full commit SHA', () => {
        for (const file of workflows) {
            for (const m of text(file).matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)/gm)) {
                const ref = m[1] as string
                if (ref.startsWith('./')) continue
                expect(ref, `${file}: ${ref}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)
            }
        }
    })

    it('check pull requests with a read-only token, no secrets and never pull_request_target', () => {
        const pr = load(join(workflowsDir, 'pr.yml'))
        expect(Object.keys(pr.on)).toEqual(['pull_request'])
        expect(pr.permissions).toEqual({ contents: 'read' })
        const code = text('pr.yml').split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n')
        expect(code).not.toMatch(/pull_request_target|secrets\./)
        const steps = pr.jobs.check.steps as Yaml[]
        expect(steps.filter((s) => String(s.uses).endsWith('/.github/actions/keyfleet')).map((s) => s.with.command)).toEqual(['validate', 'diff'])
        expect(steps.every((s) => s.with?.['age-key'] === undefined)).toBe(true)
    })

    // Issue 13, finding 1: the pull request must not grade itself with its own code.
    it('always run both PR jobs (no path filter), so they can be required status checks', () => {
        const pr = load(join(workflowsDir, 'pr.yml'))
        expect(pr.on.pull_request ?? {}).not.toHaveProperty('paths')
        expect(pr.on.pull_request ?? {}).not.toHaveProperty('paths-ignore')
        expect(Object.fromEntries(Object.entries(pr.jobs as Record<string, Yaml>).map(([id, j]) => [id, j.name]))).toEqual({ bundle: 'Action bundle matches its source', check: 'Validate and report changes' })
        for (const job of Object.values(pr.jobs as Record<string, Yaml>)) expect(job.if).toBeUndefined()
    })

    it('rebuild the action bundle from source in a PR job and fail on any byte of difference', () => {
        const steps = load(join(workflowsDir, 'pr.yml')).jobs.bundle.steps as Yaml[]
        expect(steps.map((s) => s.run).filter(Boolean)).toEqual(['npm ci --ignore-scripts --no-audit --no-fund', 'node scripts/check-action-bundle.mjs'])
    })

    it("run the key checks with the base branch's action code on the pull request's files", () => {
        const steps = load(join(workflowsDir, 'pr.yml')).jobs.check.steps as Yaml[]
        const base = steps.find((s) => s.with?.path === 'base') as Yaml
        expect(base.with.ref).toBe('${{ github.event.pull_request.base.sha }}')
        const head = steps.find((s) => s.with?.path === 'head') as Yaml
        // The pull request merged into its base (the default ref), as GitHub would merge it.
        expect(head.with.ref).toBeUndefined()
        for (const s of steps.filter((x) => x.with?.command !== undefined)) {
            expect(s.uses).toBe('./base/.github/actions/keyfleet')
            expect(s.with['repository-path']).toBe('head')
        }
        // Nothing from the pull request's checkout is ever executed.
        expect(steps.some((s) => String(s.uses ?? '').startsWith('./head') || s.run !== undefined)).toBe(false)
    })

    it('promote dev -> stage -> prod, each bound to its GitHub environment, one run per environment at a time', () => {
        const deploy = load(join(workflowsDir, 'deploy.yml'))
        expect(deploy.on.push).toEqual({ branches: ['main'], paths: ['environments/**', '.sops.yaml'] })
        expect(deploy.permissions).toEqual({ contents: 'read' })
        expect(deploy.jobs.dev.with.environment).toBe('dev')
        expect(deploy.jobs.stage).toMatchObject({ needs: 'dev', with: { environment: 'stage' } })
        expect(deploy.jobs.prod).toMatchObject({ needs: 'stage', with: { environment: 'prod' } })
        const stage = load(join(workflowsDir, 'deploy-environment.yml'))
        const job = stage.jobs.deploy
        expect(job.environment).toBe('${{ inputs.environment }}')
        expect(job.concurrency).toEqual({ group: 'keyfleet-deploy-${{ inputs.environment }}', 'cancel-in-progress': false })
        expect(stage.permissions).toEqual({ contents: 'read' })
        const last = (job.steps as Yaml[]).at(-1) as Yaml
        expect(last.if).toBe('${{ always() }}')
        expect(last.run).toContain('rm -rf')
    })

    it('pass every secret a called workflow reads: declared under on.workflow_call.secrets and mapped by each caller job', () => {
        // Comments may name secrets; only the code counts.
        const code = (name: string): string => text(name).split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n')
        // GITHUB_TOKEN is the one secret GitHub provides to every workflow without passing.
        const used = (name: string): string[] => [...new Set([...code(name).matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string))].filter((n) => n !== 'GITHUB_TOKEN').sort()
        expect(used('deploy-environment.yml')).toEqual(['KEYFLEET_PUBLISH_URL', 'KEYFLEET_PUSH_TOKEN', 'KEYFLEET_SIGNING_KEY', 'KUBECONFIG', 'SOPS_AGE_KEY'])
        let callers = 0
        for (const file of workflows) {
            for (const [id, job] of Object.entries(load(join(workflowsDir, file)).jobs as Record<string, Yaml>)) {
                const called = /^\.\/\.github\/workflows\/([\w.-]+\.ya?ml)$/.exec(String(job.uses ?? ''))?.[1]
                if (called === undefined) continue
                callers++
                const needed = used(called)
                // A secret the called workflow does not declare is empty there even in a job bound to an environment.
                const declared = (load(join(workflowsDir, called)).on.workflow_call.secrets ?? {}) as Yaml
                expect(Object.keys(declared).sort(), `${called} declares`).toEqual(needed)
                // Explicit mapping, not `secrets: inherit`: the called workflow gets these and no other secret (docs/ci-setup.md).
                expect(job.secrets, `${file}: job ${id}`).toEqual(Object.fromEntries(needed.map((n) => [n, `\${{ secrets.${n} }}`])))
            }
        }
        expect(callers).toBe(3)
    })

    it('stop with a pointer to the environment secret when SOPS_AGE_KEY arrives empty', () => {
        const steps = load(join(workflowsDir, 'deploy-environment.yml')).jobs.deploy.steps as Yaml[]
        const check = steps.find((s) => String(s.name).startsWith('Cross-check')) as Yaml
        const result = spawnSync('bash', ['-c', check.run as string], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', SOPS_AGE_KEY: '', ENVIRONMENT: 'prod' } })
        expect(result.status).toBe(1)
        expect(result.stdout).toContain('::error title=keyfleet::the secret SOPS_AGE_KEY is empty: store the CI identity as a secret of the GitHub environment prod')
    })

    it('give the render no base-ref on the first push of a branch (all-zeros before), where there is nothing to compare with', () => {
        const steps = load(join(workflowsDir, 'deploy-environment.yml')).jobs.deploy.steps as Yaml[]
        const render = steps.find((s) => s.with?.command === 'render') as Yaml
        expect(render.with['base-ref']).toBe("${{ github.event_name == 'push' && github.event.before != '0000000000000000000000000000000000000000' && github.event.before || '' }}")
    })

    it('run the live key check before rendering only when vars.KEYFLEET_LIVE_CHECK is true', () => {
        const steps = load(join(workflowsDir, 'deploy-environment.yml')).jobs.deploy.steps as Yaml[]
        const check = steps.findIndex((s) => s.with?.command === 'check')
        const render = steps.findIndex((s) => s.with?.command === 'render')
        expect(check).toBeGreaterThan(-1)
        expect(check).toBeLessThan(render)
        const step = steps[check] as Yaml
        expect(step.if).toBe("${{ vars.KEYFLEET_LIVE_CHECK == 'true' }}")
        expect(step.uses).toBe('./approved/.github/actions/keyfleet')
        expect(step.with).toMatchObject({ environment: '${{ inputs.environment }}', 'age-key': '${{ secrets.SOPS_AGE_KEY }}', live: true })
    })

    it('verify the sops download against the same sha256 as scripts/ensure-tools.sh', () => {
        const stage = load(join(workflowsDir, 'deploy-environment.yml'))
        const tools = readFileSync(join(repoRoot, 'scripts', 'ensure-tools.sh'), 'utf8')
        const pinned = /\[linux\.amd64\]="\$\{KEYFLEET_SOPS_SHA256_LINUX_AMD64:-([0-9a-f]{64})\}"/.exec(tools)?.[1]
        expect(pinned).toBeDefined()
        expect(stage.env.SOPS_SHA256).toBe(pinned)
        expect(stage.env.SOPS_VERSION).toBe('3.13.2')
        expect(text('deploy-environment.yml')).toContain('sha256sum --check --strict')
    })
})

/** CODEOWNERS patterns (the subset the template uses: anchored paths, `*` within a segment, trailing `/`). */
const codeOwned = (path: string): boolean => {
    const lines = readFileSync(join(repoRoot, '.github', 'CODEOWNERS'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
    return lines.some((line) => {
        const [pattern = '', ...owners] = line.split(/\s+/)
        const re = new RegExp(`^${pattern.replace(/^\//, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\/$/, '/.*')}$`)
        return owners.length > 0 && re.test(path)
    })
}

describe('CODEOWNERS template', () => {
    it('covers the workflows, the action, .sops.yaml, the catalog, every deployment.yaml and the bundle sources', () => {
        for (const path of ['.github/workflows/pr.yml', '.github/actions/keyfleet/dist/index.js', '.github/CODEOWNERS', '.sops.yaml', 'environments/keyfleet.yaml', 'environments/prod/deployment.yaml', 'environments/dev/deployment.yaml', 'src/action/main.ts', 'scripts/build-action.mjs', 'package-lock.json']) {
            expect(codeOwned(path), path).toBe(true)
        }
    })
    it('leaves the keys themselves to ordinary review', () => {
        for (const path of ['environments/prod/env.secrets', 'environments/dev/proposals/OPENAI_API_KEY.age']) expect(codeOwned(path), path).toBe(false)
    })
})

const deploySteps = (): Yaml[] => load(join(workflowsDir, 'deploy-environment.yml')).jobs.deploy.steps as Yaml[]

// Issue 13, findings 2, 5 and 12.
describe('deploy workflow wiring', () => {
    it('refuses any ref but main in its first keyfleet step, before any step or the job reads a secret', () => {
        const wf = load(join(workflowsDir, 'deploy-environment.yml'))
        expect(JSON.stringify(wf.jobs.deploy.env ?? {})).not.toContain('secrets.')
        const steps = deploySteps()
        const guard = steps.findIndex((s) => s.with?.command === 'guard')
        expect(guard).toBeGreaterThan(-1)
        expect(steps.findIndex((s) => String(s.uses ?? '').includes('actions/keyfleet'))).toBe(guard)
        for (const s of steps.slice(0, guard + 1)) expect(JSON.stringify(s), String(s.name)).not.toContain('secrets.')
        expect(steps[guard]?.if).toBeUndefined()
    })

    it('hands KEYFLEET_PUSH_TOKEN to the push steps only (fold, bundles branch); reads (catch-up) use GITHUB_TOKEN', () => {
        const steps = deploySteps()
        const holders = steps.filter((s) => JSON.stringify(s).includes('KEYFLEET_PUSH_TOKEN')).map((s) => s.with?.command)
        expect(holders).toEqual(['publish', 'push-fold'])
        expect(steps.filter((s) => JSON.stringify(s).includes('KEYFLEET_SIGNING_KEY')).map((s) => s.with?.command)).toEqual(['publish'])
        expect(steps.find((s) => s.with?.command === 'catch-up')?.with.token).toBe('${{ github.token }}')
    })

    it('publishes the host bundles right after apply, before the rollout wait that watches the hosts pull them', () => {
        const commands = deploySteps().map((s) => s.with?.command as string | undefined)
        const apply = commands.indexOf('apply')
        expect(apply).toBeGreaterThan(-1)
        expect(commands.indexOf('publish')).toBe(apply + 1)
        expect(commands.indexOf('rollout')).toBe(apply + 2)
        // A pre-signed PUT URL is a write credential: a secret, never a repository variable.
        expect(deploySteps().find((s) => s.with?.command === 'publish')?.with['publish-url']).toBe('${{ secrets.KEYFLEET_PUBLISH_URL }}')
    })

    it('runs every keyfleet step from the approved commit, checked out apart from the repository it works on', () => {
        const steps = deploySteps()
        const approved = steps.find((s) => s.with?.path === 'approved') as Yaml
        expect(approved.with).toMatchObject({ ref: '${{ github.sha }}', 'persist-credentials': false })
        expect(steps.findIndex((s) => s === approved)).toBe(0)
        for (const s of steps.filter((x) => String(x.uses ?? '').includes('actions/keyfleet'))) {
            expect(s.uses, String(s.name)).toBe('./approved/.github/actions/keyfleet')
            if (s.with.command !== 'guard') expect(s.with['repository-path'], String(s.name)).toBe('repo')
        }
    })

    it('applies server-side through the apply command, after render and before the push', () => {
        const steps = deploySteps()
        const at = (c: string): number => steps.findIndex((s) => s.with?.command === c)
        expect(at('apply')).toBeGreaterThan(at('render'))
        expect(at('push-fold')).toBeGreaterThan(at('apply'))
        expect(steps[at('apply')]?.with).toMatchObject({ kubeconfig: '${{ secrets.KUBECONFIG }}', agents: '${{ steps.render.outputs.agents }}' })
        expect(codeOf('deploy-environment.yml')).not.toMatch(/kubectl/)
    })

    it('keeps only short run: scripts (tool install, the sops cross-check, cleanup) and no copied constants', () => {
        for (const file of workflows) {
            const runs = Object.values(load(join(workflowsDir, file)).jobs as Record<string, Yaml>).flatMap((j) => (j.steps ?? []) as Yaml[]).filter((s) => s.run !== undefined)
            for (const s of runs) expect(String(s.run).trim().split('\n').length, `${file}: ${s.name}`).toBeLessThanOrEqual(10)
            const t = codeOf(file)
            expect(t).not.toContain(BOT_EMAIL)
            expect(t).not.toContain('proposals/[A-Za-z0-9_]+')
            expect(t).not.toContain('x-access-token')
            expect(t).not.toContain('fold proposals for')
        }
    })
})

describe('guard command', () => {
    it('refuses a dispatch on another branch or a tag, and lets main through', async () => {
        const sb = makeSandbox()
        try {
            for (const ref of ['refs/heads/feature', 'refs/tags/v1', 'refs/heads/main-old', 'refs/pull/1/merge', '']) {
                const r = await runAction(sb, { command: 'guard' }, { GITHUB_REF: ref })
                expect(r.code, ref).toBe(1)
                expect(r.stdout, ref).toMatch(/::error title=ACTION_REF_REFUSED::ACTION_REF_REFUSED: refusing to deploy from .*deployments run from refs\/heads\/main only/)
            }
            const ok = await runAction(sb, { command: 'guard' }, { GITHUB_REF: 'refs/heads/main' })
            expect(ok.code, ok.stdout).toBe(0)
        } finally {
            execFileSync('rm', ['-rf', sb.base])
        }
    })
})

describe('action metadata', () => {
    it('runs the committed bundle on node24 and declares the documented inputs and outputs', () => {
        const action = load(join(actionDir, 'action.yml'))
        expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
        expect(existsSync(join(actionDir, 'dist', 'index.js'))).toBe(true)
        expect(Object.keys(action.inputs)).toEqual(['command', 'environment', 'age-key', 'base-ref', 'out-dir', 'live', 'strict', 'base-urls', 'allowed-origins', 'repository-path', 'token', 'kubeconfig', 'agents', 'timeout', 'folded', 'signing-key', 'bundles-branch', 'publish-url'])
        expect(Object.keys(action.outputs)).toEqual(['findings', 'changed', 'reencrypted', 'rendered', 'artifacts', 'generation', 'agents', 'folded', 'caught-up', 'applied', 'pushed', 'published', 'commit', 'issued-at', 'complete', 'rollout'])
    })
})
