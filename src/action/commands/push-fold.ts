/**
 * `command: push-fold`: commits an environment's fold (env.secrets and the
 * removed proposals, nothing else) and pushes that one commit to the branch.
 *
 * Only the fold commit ever moves: before each push the branch is fetched,
 * and the fold is re-applied onto it with `git rebase --onto` (never a
 * replay of the local history, which would bring back commits a force-push
 * removed, such as a leaked key). And the push is refused outright unless
 * the commit the run was triggered by (GITHUB_SHA) is still on the branch:
 * a rewritten branch gets a new deploy run, not this run's view of it.
 */
import * as core from '@actions/core'
import { KeyfleetError } from '../../errors.js'
import { BOT_EMAIL, BOT_NAME, foldSubject, isFoldPath } from '../deploy/constants.js'
import { authEnv, gitIn, isAncestor, must } from '../deploy/git.js'
import type { ActionWarning, CommandContext, CommandResult } from './types.js'

/** Push attempts before giving up on a branch that keeps moving. */
export const PUSH_ATTEMPTS = 5

const fail = (message: string): KeyfleetError => new KeyfleetError('ACTION_FOLD_NOT_PUSHED', message)

/**
 * Commits and pushes the fold.
 * @throws KeyfleetError `ACTION_FOLD_NOT_PUSHED` for staged changes outside
 *   the fold's paths, a rewritten branch, a refused push or a branch that
 *   kept moving; nothing was pushed then.
 */
export const runPushFold = async (ctx: CommandContext): Promise<CommandResult> => {
    const { root, token, folded } = ctx.inputs
    const env = ctx.inputs.environment as string
    const branch = ctx.env.GITHUB_REF_NAME ?? ''
    const trigger = ctx.env.GITHUB_SHA ?? ''
    const warn = (w: ActionWarning): CommandResult => ({ findings: [], summary: [], outputs: { pushed: 'false' }, failed: false, warnings: [w] })
    if (ctx.env.GITHUB_REF_TYPE !== 'branch' || branch === '') {
        return warn({ title: 'keyfleet fold not pushed', message: `${ctx.env.GITHUB_REF ?? 'this ref'} is not a branch; the proposals stay pending until a deploy from a branch folds them.` })
    }
    const local = gitIn(root, ctx.env)
    const dir = `environments/${env}`
    await must(local, ['add', '-A', '--', dir], `stage ${dir}`)
    const staged = (await must(local, ['diff', '--cached', '--name-only', '--no-renames', '-z'], 'list staged changes')).split('\0').filter((p) => p !== '')
    const stray = staged.filter((p) => !isFoldPath(p, env))
    if (stray.length > 0) throw fail(`unexpected staged changes (${stray.slice(0, 5).join(', ').slice(0, 300)}): a fold changes ${dir}/env.secrets and ${dir}/proposals/ only; nothing was pushed.`)
    if (staged.length === 0) return warn({ title: 'keyfleet fold not pushed', message: `nothing to commit in ${dir}.` })
    await must(local, ['-c', `user.name=${BOT_NAME}`, '-c', `user.email=${BOT_EMAIL}`, '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', foldSubject(env), '-m', `Folded: ${folded}`], 'commit the fold')
    const fold = (await must(local, ['rev-parse', 'HEAD'], 'read the fold commit')).trim()

    const git = gitIn(root, ctx.env, authEnv(token, ctx.env.GITHUB_SERVER_URL ?? 'https://github.com', ctx.setSecret))
    let commit = fold
    for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
        await must(git, ['fetch', '-q', 'origin', `refs/heads/${branch}`], `fetch ${branch}`)
        const tip = (await must(git, ['rev-parse', 'FETCH_HEAD'], 'read FETCH_HEAD')).trim()
        if (trigger === '' || !(await isAncestor(git, trigger, tip))) {
            throw fail(`${branch} no longer contains the commit this run deployed (${trigger.slice(0, 12)}): it was rewritten (force-push?). Refusing to push the fold on top of it; the deploy run of the new ${branch} folds the proposals still pending.`)
        }
        const parent = (await must(git, ['rev-parse', `${commit}^`], 'read the fold parent')).trim()
        if (parent !== tip) {
            // Only the fold commit moves: --onto takes parent..commit, one commit, whatever else is local.
            const rebased = await git(['-c', `user.name=${BOT_NAME}`, '-c', `user.email=${BOT_EMAIL}`, '-c', 'commit.gpgsign=false', 'rebase', '-q', '--onto', tip, parent, commit])
            if (!rebased.ok) {
                await git(['rebase', '--abort'])
                return warn({ title: 'keyfleet fold not pushed', message: `a newer commit on ${branch} changed ${dir}; its deploy run folds the proposals still pending.` })
            }
            commit = (await must(git, ['rev-parse', 'HEAD'], 'read the rebased fold')).trim()
        }
        if ((await git(['push', '-q', 'origin', `${commit}:refs/heads/${branch}`])).ok) {
            core.info(`pushed the fold of ${env} (${folded}) to ${branch}`)
            return { findings: [], summary: [], outputs: { pushed: 'true' }, failed: false }
        }
        await must(git, ['fetch', '-q', 'origin', `refs/heads/${branch}`], `fetch ${branch}`)
        const now = (await must(git, ['rev-parse', 'FETCH_HEAD'], 'read FETCH_HEAD')).trim()
        if (now === tip) {
            throw fail(`the push to ${branch} was refused although nothing newer is there (branch protection?). GITHUB_TOKEN cannot bypass it: set the environment secret KEYFLEET_PUSH_TOKEN (docs/ci-setup.md). The proposals stay pending.`)
        }
    }
    throw fail(`${branch} kept moving; gave up after ${PUSH_ATTEMPTS} attempts. The proposals stay pending for the next deploy run.`)
}
