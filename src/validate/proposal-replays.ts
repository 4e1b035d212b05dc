/**
 * Replay detection for write-only proposals (KF154). A fold deletes the
 * proposal files it applied, and age output is randomized, so a proposal
 * whose exact blob was deleted under proposals/ before is an old file
 * restored from history: applying it again would bring back an old,
 * possibly revoked, value. Needs git and no key.
 */
import type { Finding } from '../findings.js'
import { environmentPaths } from '../repo/layout.js'
import { lifecycleFinding } from './codes.js'
import { blobIdOf, commitsDeletingBlob, isGitRepo } from './git.js'
import { PROPOSAL_FILE_NAME, listProposalDir } from './proposals.js'

/**
 * Reports KF154 for each proposal of `env` whose blob a commit reachable
 * from HEAD deleted from `environments/<env>/proposals/`.
 * Outside a git repository (or with no commits yet) returns [] silently:
 * there is no history to replay from. A shallow clone sees only its depth.
 * @returns KF154 error findings at the proposal files; [] when none.
 * @throws KeyfleetError `GIT_FAILED` / `GIT_MISSING` when git fails inside a repository;
 *   `ENV_INVALID_NAME` for a malformed environment name.
 */
export const checkProposalReplays = async (root: string, env: string): Promise<Finding[]> => {
    const { proposals } = listProposalDir(root, env)
    if (proposals.length === 0 || !(await isGitRepo(root))) return []
    const dir = environmentPaths(env).proposals
    const findings: Finding[] = []
    for (const entry of proposals) {
        const file = `${dir}/${entry}`
        const deleted = await commitsDeletingBlob(root, await blobIdOf(root, file), `${dir}/`)
        const commit = deleted[0]
        if (commit === undefined) continue
        const name = PROPOSAL_FILE_NAME.exec(entry)?.[1] ?? entry
        findings.push(lifecycleFinding('KF154', file, undefined,
            `proposal ${name} was applied and removed before (commit ${commit.slice(0, 12)}): a replay of an old value; make a new proposal (\`keyfleet propose ${env} ${name}\`)`))
    }
    return findings
}
