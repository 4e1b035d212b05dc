/**
 * The workflows and the action metadata: actionlint finds nothing, and the
 * security rules a reviewer relies on hold (pinned actions, no secrets or
 * pull_request_target in PR checks, minimal permissions, gated promotion).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { repoRoot, toolPath } from '../helpers/tools.js'

const workflowsDir = join(repoRoot, '.github', 'workflows')
const actionDir = join(repoRoot, '.github', 'actions', 'keyfleet')
const workflows = readdirSync(workflowsDir).filter((f) => f.endsWith('.yml'))
type Yaml = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const load = (file: string): Yaml => parse(readFileSync(file, 'utf8')) as Yaml
const text = (name: string): string => readFileSync(join(workflowsDir, name), 'utf8')

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
        expect(pr.on.pull_request.paths).toEqual(['environments/**', '.sops.yaml'])
        expect(pr.permissions).toEqual({ contents: 'read' })
        const code = text('pr.yml').split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n')
        expect(code).not.toMatch(/pull_request_target|secrets\./)
        const steps = pr.jobs.check.steps as Yaml[]
        expect(steps.filter((s) => s.uses === './.github/actions/keyfleet').map((s) => s.with.command)).toEqual(['validate', 'diff'])
        expect(steps.every((s) => s.with?.['age-key'] === undefined)).toBe(true)
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
        expect(used('deploy-environment.yml')).toEqual(['KEYFLEET_PUSH_TOKEN', 'KUBECONFIG', 'SOPS_AGE_KEY'])
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
        expect(step.uses).toBe('./.github/actions/keyfleet')
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

describe('action metadata', () => {
    it('runs the committed bundle on node24 and declares the documented inputs and outputs', () => {
        const action = load(join(actionDir, 'action.yml'))
        expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
        expect(existsSync(join(actionDir, 'dist', 'index.js'))).toBe(true)
        expect(Object.keys(action.inputs)).toEqual(['command', 'environment', 'age-key', 'base-ref', 'out-dir', 'live', 'strict', 'base-urls'])
        expect(Object.keys(action.outputs)).toEqual(['findings', 'changed', 'reencrypted', 'rendered', 'artifacts', 'generation', 'agents', 'folded'])
    })
})
