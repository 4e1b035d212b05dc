/**
 * `command: guard`: the deploy job's first step, before any step reads a
 * secret. Refuses to go on unless the run is for `refs/heads/main`, so a
 * `workflow_dispatch` on another branch (or a tag) stops here even where an
 * environment's deployment-branch rule was forgotten (docs/ci-setup.md).
 */
import { KeyfleetError } from '../../errors.js'
import { DEPLOY_BRANCH } from '../deploy/constants.js'
import type { CommandContext, CommandResult } from './types.js'

/**
 * Checks GITHUB_REF.
 * @throws KeyfleetError `ACTION_REF_REFUSED` unless GITHUB_REF is `refs/heads/main`.
 */
export const runGuard = async (ctx: CommandContext): Promise<CommandResult> => {
    const ref = ctx.env.GITHUB_REF ?? ''
    const wanted = `refs/heads/${DEPLOY_BRANCH}`
    if (ref !== wanted) {
        throw new KeyfleetError('ACTION_REF_REFUSED', `refusing to deploy from "${ref.slice(0, 100)}": deployments run from ${wanted} only. Merge the change into ${DEPLOY_BRANCH} (docs/ci-setup.md, "Deployment branches").`)
    }
    return { findings: [], summary: [], outputs: {}, failed: false }
}
