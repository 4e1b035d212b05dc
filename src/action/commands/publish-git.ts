/**
 * Publishing signed bundles to the bundles branch: one orphan commit per
 * deploy whose tree is the previous tip's tree with this environment's
 * directory replaced by exactly the current bundles, pushed with
 * `--force-with-lease` on the tip it was built from (so two environments
 * deploying at once retry rather than overwrite each other). Orphan commits
 * keep the branch one tree deep: a host clones or fetches a few KiB, and
 * freshness never relies on history (each bundle carries its signed issue time).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { parseEnvelope } from '../../sign/index.js'
import { BOT_EMAIL, BOT_NAME } from '../deploy/constants.js'
import { must, type Git } from '../deploy/git.js'

/** Push attempts while another deploy keeps moving the branch. */
export const PUBLISH_ATTEMPTS = 5

/** The tip of `branch` on origin (fetched), or undefined when the branch does not exist yet. */
export const fetchTip = async (git: Git, branch: string): Promise<string | undefined> => {
    const listed = await must(git, ['ls-remote', 'origin', `refs/heads/${branch}`], `list ${branch} on origin`)
    const sha = listed.split('\t')[0]?.trim()
    if (sha === undefined || sha === '') return undefined
    await must(git, ['fetch', '-q', '--no-tags', 'origin', `refs/heads/${branch}`], `fetch ${branch}`)
    return (await must(git, ['rev-parse', 'FETCH_HEAD'], 'read FETCH_HEAD')).trim()
}

/** The newest `issued-at` among `env`'s bundles at `tip` (0 when none parse). */
export const lastIssuedAt = async (git: Git, tip: string | undefined, env: string): Promise<number> => {
    if (tip === undefined) return 0
    const r = await git(['ls-tree', '-r', '--name-only', tip, '--', `${env}/`])
    if (!r.ok) return 0
    let latest = 0
    for (const path of r.stdout.split('\n').filter((p) => p.endsWith('.bundle'))) {
        const shown = await git(['show', `${tip}:${path}`])
        if (!shown.ok) continue
        try { latest = Math.max(latest, parseEnvelope(shown.stdout).header.issuedAt) } catch { /* an unparsable old file sets no floor */ }
    }
    return latest
}

/**
 * Builds the commit for `files` (absolute path of each signed bundle → its path in the branch).
 * @param indexGit - git bound to a private GIT_INDEX_FILE, so the checkout's own index is never touched.
 */
export const buildCommit = async (indexGit: Git, tip: string | undefined, env: string, files: ReadonlyMap<string, string>, message: string): Promise<string> => {
    await must(indexGit, tip === undefined ? ['read-tree', '--empty'] : ['read-tree', tip], 'start the bundles tree')
    await must(indexGit, ['rm', '-r', '-q', '--cached', '--ignore-unmatch', '--', `${env}/`], `drop the old ${env} bundles`)
    for (const [file, path] of files) {
        const blob = (await must(indexGit, ['hash-object', '-w', '--', file], 'store a bundle')).trim()
        await must(indexGit, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], 'add a bundle')
    }
    const tree = (await must(indexGit, ['write-tree'], 'write the bundles tree')).trim()
    return (await must(indexGit, ['commit-tree', tree, '-m', message], 'commit the bundles')).trim()
}

/** The environment for `commit-tree`: the bot as author and committer. */
export const botEnv: Record<string, string> = {
    GIT_AUTHOR_NAME: BOT_NAME, GIT_AUTHOR_EMAIL: BOT_EMAIL, GIT_COMMITTER_NAME: BOT_NAME, GIT_COMMITTER_EMAIL: BOT_EMAIL,
}

/** Pushes `commit` as the new tip, leased on `tip`; false when the branch moved meanwhile. */
export const pushLeased = async (git: Git, commit: string, tip: string | undefined, branch: string): Promise<boolean> => {
    const r = await git(['push', '-q', `--force-with-lease=refs/heads/${branch}:${tip ?? ''}`, 'origin', `${commit}:refs/heads/${branch}`])
    if (r.ok) return true
    if (/stale info|rejected|fetch first|non-fast-forward/.test(r.stderr)) return false
    throw new KeyfleetError('ACTION_PUBLISH_FAILED', `git could not push ${branch} (${r.stderr.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 200) ?? ''}); the bundles were not published. Check that the token may push to ${branch}`)
}

/** A private scratch dir for the index. */
export const scratch = (base: string): string => {
    if (!existsSync(base)) mkdirSync(base, { recursive: true, mode: 0o700 })
    return join(base, 'index')
}
