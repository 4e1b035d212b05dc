/**
 * The deploy workflow's git steps, run the way the runner does: the bundled
 * action (`node dist/index.js`, INPUT_* variables) with the commands
 * `catch-up` and `push-fold`, against local clones of a bare origin. Covers
 * the promotion race (dev, stage and prod each pushing a fold), and the
 * attacks of issue 13: a force-push-removed commit must not come back
 * (finding 4), and catch-up must not be fooled by a merge commit or a
 * forged fold subject (finding 5).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BOT_EMAIL, BOT_NAME, foldSubject } from '../../src/action/deploy/constants.js'
import { filesUnder, findLeaks, makeCanary } from '../helpers/canary.js'
import { runAction, type ActionRun, type Sandbox } from './harness.js'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=dev', '-c', 'user.email=dev@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const asBot = (cwd: string, ...args: string[]): string => git(cwd, '-c', `user.name=${BOT_NAME}`, '-c', `user.email=${BOT_EMAIL}`, ...args)

interface Origin { base: string; bare: string; clone: (name: string) => string; log: () => string[]; files: () => string[] }

/** A bare origin holding env.secrets and one proposal for dev and stage, and a clone factory. */
const origin = (): Origin => {
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
    const bare = join(base, 'origin.git')
    return {
        base, bare,
        clone: (name) => { git(base, 'clone', '-q', 'origin.git', name); return join(base, name) },
        log: () => git(bare, 'log', '--format=%s', 'main').trim().split('\n'),
        files: () => git(bare, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n'),
    }
}

/** What the fold action leaves in the checkout: env.secrets changed, the proposals removed. */
const foldIn = (repo: string, env: string, content: string): void => {
    writeFileSync(join(repo, 'environments', env, 'env.secrets'), content)
    rmSync(join(repo, 'environments', env, 'proposals'), { recursive: true })
}

const head = (repo: string): string => git(repo, 'rev-parse', 'HEAD').trim()

/** Runs one action command in `repo` as the runner would, for a push to main at `sha` (default: the clone's HEAD). */
const step = (o: Origin, repo: string, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> => {
    const runnerTemp = mkdtempSync(join(o.base, 'runner-temp-'))
    const sb: Sandbox = { base: mkdtempSync(join(o.base, 'step-')), workspace: repo, runnerTemp, outDir: join(o.base, 'out') }
    return runAction(sb, { token: 'test-token-value', ...inputs }, {
        GITHUB_SERVER_URL: 'https://github.com', GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_REF_TYPE: 'branch', GITHUB_SHA: head(repo), ...env,
    })
}
const push = (o: Origin, repo: string, env: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
    step(o, repo, { command: 'push-fold', environment: env, folded: 'OPENAI_API_KEY' }, extra)
const catchUp = (o: Origin, repo: string): Promise<ActionRun> => step(o, repo, { command: 'catch-up' })
const out = (r: ActionRun): string => r.stdout + r.stderr

describe('push-fold', () => {
    it('commits env.secrets and the removed proposals with [skip ci], and survives the promotion race', async () => {
        const o = origin()
        const dev = o.clone('dev')
        const stage = o.clone('stage')
        foldIn(dev, 'dev', 'dev v2\n')
        foldIn(stage, 'stage', 'stage v2\n')

        const first = await push(o, dev, 'dev')
        expect(first.code, out(first)).toBe(0)
        expect(first.stdout).toContain('::add-mask::')
        expect(out(first).split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain('test-token-value')
        // stage started from the same commit: its fold is re-applied on top of dev's and pushed.
        const second = await push(o, stage, 'stage')
        expect(second.code, out(second)).toBe(0)
        expect(o.log()).toEqual([foldSubject('stage'), foldSubject('dev'), 'seed'])
        expect(git(o.bare, 'log', '-1', '--format=%an <%ae>', 'main').trim()).toBe(`${BOT_NAME} <${BOT_EMAIL}>`)
        expect(o.files()).toEqual(['environments/dev/env.secrets', 'environments/stage/env.secrets'])
        const check = o.clone('check')
        expect(readFileSync(join(check, 'environments/stage/env.secrets'), 'utf8')).toBe('stage v2\n')
    })

    it('never lets the push token reach the log, the outputs, the summary or .git (canary, all encodings)', async () => {
        const o = origin()
        const dev = o.clone('dev')
        const stage = o.clone('stage')
        foldIn(dev, 'dev', 'dev v2\n')
        foldIn(stage, 'stage', 'stage v2\n')
        const token = makeCanary('ghp_CANARY')
        expect((await push(o, dev, 'dev')).code).toBe(0)
        // The second push goes through a refused push, a fetch and a rebase: every git path that runs with the token.
        const r = await step(o, stage, { command: 'push-fold', environment: 'stage', folded: 'OPENAI_API_KEY', token })
        expect(r.code, out(r)).toBe(0)
        const haystacks = {
            stdout: r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'), stderr: r.stderr,
            GITHUB_OUTPUT: r.outputFile, GITHUB_STEP_SUMMARY: r.summary, GITHUB_ENV: r.envFile,
            ...filesUnder(join(stage, '.git'), (p) => p.includes('/objects/')), ...filesUnder(o.bare, (p) => p.includes('/objects/')),
        }
        expect(findLeaks(token, haystacks)).toEqual([])
        expect(r.stdout).toContain(`::add-mask::${token}`)
        expect(r.stdout).toContain(`::add-mask::${Buffer.from(`x-access-token:${token}`).toString('base64')}`)
    })

    it('refuses to commit anything but env.secrets and proposals of its environment', async () => {
        const o = origin()
        const repo = o.clone('repo')
        foldIn(repo, 'dev', 'dev v2\n')
        writeFileSync(join(repo, 'environments/dev/deployment.yaml'), 'x: 1\n')
        const pushed = await push(o, repo, 'dev')
        expect(pushed.code).toBe(1)
        expect(pushed.stdout).toMatch(/::error.*unexpected staged changes \(environments\/dev\/deployment\.yaml\)/)
        expect(pushed.stdout).toContain('ACTION_FOLD_NOT_PUSHED')
        expect(o.log()).toEqual(['seed'])
    })

    it('drops its fold on a conflict with a newer commit to the environment', async () => {
        const o = origin()
        const run1 = o.clone('run1')
        const human = o.clone('human')
        writeFileSync(join(human, 'environments/dev/env.secrets'), 'dev set by hand\n')
        git(human, 'commit', '-q', '-am', 'set a key')
        git(human, 'push', '-q', 'origin', 'main')
        foldIn(run1, 'dev', 'dev v2\n')
        const pushed = await push(o, run1, 'dev')
        expect(pushed.code, out(pushed)).toBe(0)
        expect(pushed.stdout).toMatch(/::warning title=keyfleet fold not pushed::a newer commit on main changed environments\/dev/)
        expect(o.log()).toEqual(['set a key', 'seed'])
    })

    it('does not bring back a commit that a force-push removed from the branch (only the fold commit moves)', async () => {
        const o = origin()
        const run = o.clone('run')
        const trigger = head(run)
        // The run's checkout holds a commit the branch no longer has: a plaintext key, removed by a force-push.
        writeFileSync(join(run, 'leak.env'), 'OPENAI_API_KEY=sk-leaked\n')
        git(run, 'add', 'leak.env')
        git(run, 'commit', '-q', '-m', 'oops: plaintext key')
        const admin = o.clone('admin')
        writeFileSync(join(admin, 'README'), 'rewritten history\n')
        git(admin, 'add', 'README')
        git(admin, 'commit', '-q', '-m', 'clean history')
        git(admin, 'push', '-q', '--force', 'origin', 'main')

        foldIn(run, 'dev', 'dev v2\n')
        const pushed = await push(o, run, 'dev', { GITHUB_SHA: trigger })
        expect(pushed.code, out(pushed)).toBe(0)
        expect(o.log()).toEqual([foldSubject('dev'), 'clean history', 'seed'])
        expect(o.files()).not.toContain('leak.env')
    })

    it('refuses to push when the commit it deployed is no longer on the branch (force-pushed away)', async () => {
        const o = origin()
        const dev = o.clone('dev')
        writeFileSync(join(dev, 'leak.env'), 'OPENAI_API_KEY=sk-leaked\n')
        git(dev, 'add', 'leak.env')
        git(dev, 'commit', '-q', '-m', 'oops: plaintext key')
        git(dev, 'push', '-q', 'origin', 'main')
        const run = o.clone('run')            // triggered by the leaking commit
        git(dev, 'reset', '-q', '--hard', 'HEAD~1')
        git(dev, 'push', '-q', '--force', 'origin', 'main')   // removed again

        foldIn(run, 'dev', 'dev v2\n')
        const pushed = await push(o, run, 'dev')
        expect(pushed.code, out(pushed)).toBe(1)
        expect(pushed.stdout).toMatch(/::error.*main no longer contains the commit this run deployed/)
        expect(o.log()).toEqual(['seed'])
        expect(o.files()).not.toContain('leak.env')
    })

    it('warns and pushes nothing for a tag', async () => {
        const o = origin()
        const repo = o.clone('repo')
        foldIn(repo, 'dev', 'dev v2\n')
        const r = await push(o, repo, 'dev', { GITHUB_REF: 'refs/tags/v1', GITHUB_REF_NAME: 'v1', GITHUB_REF_TYPE: 'tag' })
        expect(r.code).toBe(0)
        expect(r.stdout).toContain('refs/tags/v1 is not a branch')
        expect(o.log()).toEqual(['seed'])
    })
})

describe('catch-up', () => {
    it('fast-forwards to the folds of earlier runs, so the later push does not conflict', async () => {
        const o = origin()
        const later = o.clone('later')          // triggered before the earlier run pushed its fold
        const earlier = o.clone('earlier')
        foldIn(earlier, 'dev', 'dev v2\n')
        expect((await push(o, earlier, 'dev')).code).toBe(0)

        const caught = await catchUp(o, later)
        expect(caught.code, out(caught)).toBe(0)
        expect(caught.stdout).toContain('caught up with 1 fold commit(s)')
        expect(caught.outputs['caught-up']).toBe('1')
        expect(readFileSync(join(later, 'environments/dev/env.secrets'), 'utf8')).toBe('dev v2\n')
    })

    it('does not catch up past a commit that is not a fold', async () => {
        const o = origin()
        const run = o.clone('run')
        const human = o.clone('human')
        writeFileSync(join(human, 'environments/dev/env.secrets'), 'dev set by hand\n')
        git(human, 'commit', '-q', '-am', 'set a key')
        git(human, 'push', '-q', 'origin', 'main')
        const before = head(run)
        const caught = await catchUp(o, run)
        expect(caught.code, out(caught)).toBe(0)
        expect(caught.stdout).toContain('newer commits that are not folds')
        expect(head(run)).toBe(before)
    })

    it('refuses a merge commit with the fold subject that brings in other files (diff-tree lists none for a merge)', async () => {
        const o = origin()
        const run = o.clone('run')
        const attacker = o.clone('attacker')
        // Two genuine-looking folds on two lines of history, and a bot-authored "fold" merge of them
        // whose tree also carries a doctored action bundle (an evil merge: in neither parent).
        git(attacker, 'checkout', '-q', '-b', 'side')
        writeFileSync(join(attacker, 'environments/dev/env.secrets'), 'dev v2\n')
        asBot(attacker, 'commit', '-q', '-am', foldSubject('dev'))
        git(attacker, 'checkout', '-q', 'main')
        writeFileSync(join(attacker, 'environments/stage/env.secrets'), 'stage v2\n')
        asBot(attacker, 'commit', '-q', '-am', foldSubject('stage'))
        asBot(attacker, 'merge', '-q', '--no-ff', '--no-commit', 'side')
        mkdirSync(join(attacker, '.github/actions/keyfleet/dist'), { recursive: true })
        writeFileSync(join(attacker, '.github/actions/keyfleet/dist/index.js'), 'steal()\n')
        git(attacker, 'add', '-A')
        asBot(attacker, 'commit', '-q', '-m', foldSubject('dev'))
        git(attacker, 'push', '-q', 'origin', 'main')
        expect(git(attacker, 'diff-tree', '--no-commit-id', '--name-only', '-r', 'HEAD').trim()).toBe('')

        const before = head(run)
        const caught = await catchUp(o, run)
        expect(caught.code, out(caught)).toBe(0)
        expect(caught.stdout).toMatch(/not folds \(merge commit [0-9a-f]{12}\)/)
        expect(head(run)).toBe(before)
    })

    it('refuses a bot-authored commit with the fold subject that changes anything else', async () => {
        const o = origin()
        const run = o.clone('run')
        const attacker = o.clone('attacker')
        writeFileSync(join(attacker, 'environments/dev/env.secrets'), 'dev v2\n')
        writeFileSync(join(attacker, 'environments/keyfleet.yaml'), 'providers: {}\n')
        git(attacker, 'add', '-A')
        asBot(attacker, 'commit', '-q', '-m', foldSubject('dev'))
        git(attacker, 'push', '-q', 'origin', 'main')
        const caught = await catchUp(o, run)
        expect(caught.stdout).toContain('the range changes environments/keyfleet.yaml')
        expect(caught.outputs['caught-up']).toBe('0')
    })

    it('refuses a bot-authored fold commit whose range turns a fold path into a symlink', async () => {
        const o = origin()
        const run = o.clone('run')
        const attacker = o.clone('attacker')
        rmSync(join(attacker, 'environments/dev/env.secrets'))
        symlinkSync('/etc/passwd', join(attacker, 'environments/dev/env.secrets'))
        git(attacker, 'add', '-A')
        asBot(attacker, 'commit', '-q', '-m', foldSubject('dev'))
        git(attacker, 'push', '-q', 'origin', 'main')
        const caught = await catchUp(o, run)
        expect(caught.stdout).toContain('the range changes environments/dev/env.secrets')
        expect(caught.outputs['caught-up']).toBe('0')
    })
})
