/**
 * The deploy workflow's shared constants: one definition each, used by the
 * guard, the catch-up, the fold push and their tests. (They used to be
 * copied between bash steps of deploy-environment.yml.)
 */

/** The only ref a deploy may run from: environments holding secrets are restricted to it (docs/ci-setup.md). */
export const DEPLOY_BRANCH = 'main'

/** The identity the fold commit is made with (GitHub's Actions bot). */
export const BOT_NAME = 'github-actions[bot]'
/** Email of {@link BOT_NAME}. */
export const BOT_EMAIL = '41898282+github-actions[bot]@users.noreply.github.com'

/** Subject of the commit that pushes an environment's fold back ([skip ci]: the push must not start deploy.yml again). */
export const foldSubject = (env: string): string => `keyfleet: fold proposals for ${env} [skip ci]`

/** Matches any {@link foldSubject}. */
export const FOLD_SUBJECT = /^keyfleet: fold proposals for [a-z0-9][a-z0-9_-]{0,62} \[skip ci\]$/

/** The paths a fold may change: an environment's env.secrets and its proposal files, nothing else. */
export const FOLD_PATH = /^environments\/([a-z0-9][a-z0-9_-]{0,62})\/(?:env\.secrets|proposals\/[A-Za-z0-9_]+\.age)$/

/** Whether `path` is one a fold of `env` (any environment when undefined) may change. */
export const isFoldPath = (path: string, env?: string): boolean => {
    const m = FOLD_PATH.exec(path)
    return m !== null && (env === undefined || m[1] === env)
}
