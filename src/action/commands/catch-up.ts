/**
 * `command: catch-up`: runs queue per environment, so when one starts an
 * earlier run may have pushed fold commits on top of the commit this run
 * was triggered by. Fast-forward to those folds, and to nothing else:
 *
 * - no merge commit in the range (a merge lists no files in
 *   `git diff-tree`, so it could hide any change);
 * - every commit has the fold subject (the author email is a hint only:
 *   anyone can set it), and
 * - the diff of the whole range changes fold paths only, as regular files.
 *
 * Otherwise the run deploys the commit it was triggered by. The action code
 * itself always comes from that (approved) commit's separate checkout.
 */
import * as core from '@actions/core'
import { FOLD_SUBJECT, isFoldPath } from '../deploy/constants.js'
import { authEnv, gitIn, isAncestor, must, type Git } from '../deploy/git.js'
import type { CommandContext, CommandResult } from './types.js'

/** Why the range HEAD..tip is not only folds, or undefined when it is. */
export const notOnlyFolds = async (git: Git, head: string, tip: string): Promise<string | undefined> => {
    const merges = (await must(git, ['rev-list', '--merges', `${head}..${tip}`], 'list merge commits')).trim()
    if (merges !== '') return `merge commit ${merges.split('\n')[0]?.slice(0, 12)}`
    const subjects = (await must(git, ['log', '--format=%H %s', `${head}..${tip}`], 'read commit subjects')).split('\n').filter((l) => l !== '')
    for (const line of subjects) {
        const [sha, ...rest] = line.split(' ')
        if (!FOLD_SUBJECT.test(rest.join(' '))) return `commit ${sha?.slice(0, 12)} is not a fold commit`
    }
    // --raw: modes too (a fold path turned into a symlink or submodule is not a fold).
    const raw = (await must(git, ['diff', '--raw', '--no-renames', '-z', head, tip, '--'], 'compare the range')).split('\0')
    for (let i = 0; i + 1 < raw.length; i += 2) {
        const meta = raw[i] as string
        const path = raw[i + 1] as string
        const newMode = meta.split(' ')[1]
        if (!isFoldPath(path) || (newMode !== '100644' && newMode !== '000000')) return `the range changes ${path.slice(0, 200)}`
    }
    return undefined
}

/** Fetches the branch and fast-forwards to the fold commits on top of HEAD, if that is all there is. */
export const runCatchUp = async (ctx: CommandContext): Promise<CommandResult> => {
    const { root, token } = ctx.inputs
    const branch = ctx.env.GITHUB_REF_NAME ?? ''
    const done = (outputs: Record<string, string>, note?: string): CommandResult => {
        if (note) core.info(note)
        return { findings: [], summary: [], outputs, failed: false }
    }
    if (ctx.env.GITHUB_REF_TYPE !== 'branch' || branch === '') return done({ 'caught-up': '0' }, 'not a branch: nothing to catch up with.')
    const git = gitIn(root, ctx.env, authEnv(token, ctx.env.GITHUB_SERVER_URL ?? 'https://github.com', ctx.setSecret))
    await must(git, ['fetch', '-q', 'origin', `refs/heads/${branch}`], `fetch ${branch}`)
    const head = (await must(git, ['rev-parse', 'HEAD'], 'read HEAD')).trim()
    const tip = (await must(git, ['rev-parse', 'FETCH_HEAD'], 'read FETCH_HEAD')).trim()
    if (head === tip) return done({ 'caught-up': '0' })
    if (!(await isAncestor(git, head, tip))) return done({ 'caught-up': '0' }, `${branch} no longer contains ${head.slice(0, 12)}; deploying it as triggered.`)
    const why = await notOnlyFolds(git, head, tip)
    if (why !== undefined) return done({ 'caught-up': '0' }, `${branch} has newer commits that are not folds (${why}); deploying ${head.slice(0, 12)} as triggered.`)
    const count = (await must(git, ['rev-list', '--count', `${head}..${tip}`], 'count commits')).trim()
    await must(git, ['merge', '-q', '--ff-only', tip], 'fast-forward to the folds')
    core.notice(`caught up with ${count} fold commit(s) pushed by earlier runs.`, { title: 'keyfleet' })
    return done({ 'caught-up': count })
}
