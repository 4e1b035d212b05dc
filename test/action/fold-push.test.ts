/**
 * The deploy workflow's fold steps, run as written: the `run:` scripts of
 * "Catch up with folds pushed by earlier runs" and "Commit the fold back to
 * the branch" are taken from deploy-environment.yml and executed with bash
 * against local clones of a bare origin, to show the promotion race (dev,
 * stage and prod each pushing a fold) is handled.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/tools.js'

type Step = { name: string; if?: string; run?: string; env?: Record<string, string> }
const workflow = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'deploy-environment.yml'), 'utf8')) as { jobs: { deploy: { steps: Step[]; permissions: unknown } } }
const steps = workflow.jobs.deploy.steps
const script = (name: string): string => {
    const step = steps.find((s) => s.name === name)
    if (step?.run === undefined) throw new Error(`no run step "${name}"`)
    return step.run
}

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=dev', '-c', 'user.email=dev@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** A bare origin holding env.secrets and one proposal for dev and stage, and a clone factory. */
const origin = (): { clone: (name: string) => string; log: () => string[] } => {
    const base = mkdtempSync(join(tmpdir(), 'kf-fold-push-'))
    dirs.push(base)
    const seed = join(base, 'seed')
    for (const env of ['dev', 'stage']) {
        mkdirSync(join(seed, 'environments', env, 'proposals'), { recursive: true })
        writeFileSync(join(seed, 'environments', env, 'env.secrets'), `${env} v1\n`)
        writeFileSync(join(seed, 'environments', env, 'proposals', 'OPENAI_API_KEY.age'), 'sealed\n')
    }
    git(base, 'init', '-q', '-b', 'main', seed)
    git(seed, 'add', '-A')
    git(seed, 'commit', '-q', '-m', 'seed')
    git(base, 'clone', '-q', '--bare', seed, 'origin.git')
    return {
        clone: (name) => { git(base, 'clone', '-q', 'origin.git', name); return join(base, name) },
        log: () => git(join(base, 'origin.git'), 'log', '--format=%s', 'main').trim().split('\n'),
    }
}

/** What the fold action leaves in the checkout: env.secrets changed, the proposals removed. */
const foldIn = (repo: string, env: string, content: string): void => {
    writeFileSync(join(repo, 'environments', env, 'env.secrets'), content)
    rmSync(join(repo, 'environments', env, 'proposals'), { recursive: true })
}

const run = (repo: string, name: string, env: Record<string, string>): { code: number | null; out: string } => {
    const result = spawnSync('bash', ['-c', script(name)], {
        cwd: repo, encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: repo, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: 'sha', BRANCH: 'main', REF_TYPE: 'branch', GH_TOKEN: 'test-token', FOLDED: 'OPENAI_API_KEY', ...env },
    })
    return { code: result.status, out: result.stdout + result.stderr }
}
const push = (repo: string, env: string): { code: number | null; out: string } => run(repo, 'Commit the fold back to the branch', { ENVIRONMENT: env })

describe('deploy workflow: pushing the fold back', () => {
    it('runs only when the fold changed something, and only after the fold, check, render and apply', () => {
        const names = steps.map((s) => s.name)
        const at = (prefix: string): number => names.findIndex((n) => n.startsWith(prefix))
        expect(at('Fold write-only proposals')).toBeGreaterThan(at('Install sops'))
        expect(at('Fold write-only proposals')).toBeLessThan(at('Check the keys'))
        expect(at('Fold write-only proposals')).toBeLessThan(at('Decrypt, validate (keyed) and render'))
        expect(at('Commit the fold back')).toBeGreaterThan(at('Apply to the cluster'))
        expect(steps[at('Commit the fold back')]?.if).toBe("${{ steps.fold.outputs.changed == 'true' }}")
        expect(workflow.jobs.deploy.permissions).toEqual({ contents: 'write' })
        // The token reaches git through the environment of the steps that push or fetch, never argv or .git/config.
        expect(script('Commit the fold back to the branch')).not.toMatch(/x-access-token:\$\{?GH_TOKEN\}?@/)
    })

    it('commits env.secrets and the removed proposals with [skip ci], and survives the promotion race by rebasing', () => {
        const o = origin()
        const dev = o.clone('dev')
        const stage = o.clone('stage')
        foldIn(dev, 'dev', 'dev v2\n')
        foldIn(stage, 'stage', 'stage v2\n')

        const first = push(dev, 'dev')
        expect(first.code, first.out).toBe(0)
        expect(first.out).toContain('::add-mask::')
        expect(first.out).not.toContain('test-token')
        // stage started from the same commit: its push is refused, rebased over dev's fold, and retried.
        const second = push(stage, 'stage')
        expect(second.code, second.out).toBe(0)
        expect(o.log()).toEqual(['keyfleet: fold proposals for stage [skip ci]', 'keyfleet: fold proposals for dev [skip ci]', 'seed'])

        const check = o.clone('check')
        expect(readFileSync(join(check, 'environments/dev/env.secrets'), 'utf8')).toBe('dev v2\n')
        expect(readFileSync(join(check, 'environments/stage/env.secrets'), 'utf8')).toBe('stage v2\n')
        expect(git(check, 'ls-files', 'environments').trim().split('\n')).toEqual(['environments/dev/env.secrets', 'environments/stage/env.secrets'])
    })

    it('a later run catches up with the folds of earlier runs before folding, so its push does not conflict', () => {
        const o = origin()
        const later = o.clone('later')          // triggered before the earlier run pushed its fold
        const earlier = o.clone('earlier')
        foldIn(earlier, 'dev', 'dev v2\n')
        expect(push(earlier, 'dev').code).toBe(0)

        const caught = run(later, 'Catch up with folds pushed by earlier runs', {})
        expect(caught.code, caught.out).toBe(0)
        expect(caught.out).toContain('caught up with 1 fold commit(s)')
        expect(readFileSync(join(later, 'environments/dev/env.secrets'), 'utf8')).toBe('dev v2\n')
    })

    it('does not catch up past a commit that is not a fold, and drops its own fold on a conflict with such a commit', () => {
        const o = origin()
        const run1 = o.clone('run1')
        const human = o.clone('human')
        writeFileSync(join(human, 'environments/dev/env.secrets'), 'dev set by hand\n')
        git(human, 'commit', '-q', '-am', 'set a key')
        git(human, 'push', '-q', 'origin', 'main')

        const caught = run(run1, 'Catch up with folds pushed by earlier runs', {})
        expect(caught.out).toContain('newer commits that are not folds')
        foldIn(run1, 'dev', 'dev v2\n')
        const pushed = push(run1, 'dev')
        expect(pushed.code, pushed.out).toBe(0)
        expect(pushed.out).toMatch(/::warning title=keyfleet fold not pushed::a newer commit on main changed environments\/dev/)
        expect(o.log()).toEqual(['set a key', 'seed'])
    })

    it('refuses to commit anything but env.secrets and proposals', () => {
        const o = origin()
        const repo = o.clone('repo')
        foldIn(repo, 'dev', 'dev v2\n')
        git(repo, 'add', '-A')
        writeFileSync(join(repo, 'stray.txt'), 'x\n')
        git(repo, 'add', 'stray.txt')
        const pushed = push(repo, 'dev')
        expect(pushed.code).toBe(1)
        expect(pushed.out).toMatch(/::error title=keyfleet fold::unexpected staged changes/)
        expect(o.log()).toEqual(['seed'])
    })
})
