/**
 * Replay detection for write-only proposals. A fold deletes the proposal
 * files it applied, and age output is randomized, so a proposal whose age
 * ciphertext was deleted under proposals/ before is an old file restored
 * from history: applying it again would bring back an old, possibly revoked,
 * value (KF154, needs git and no key). Files are compared by what they decode
 * to (a SHA-256 of the binary age file), never by their bytes: armor
 * whitespace does not change the ciphertext, so a trailing newline or a
 * re-wrapped line must not make an old proposal look new. The keyed fold
 * adds KF155: a proposal made before its key last changed is stale.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Finding } from '../findings.js'
import { environmentPaths } from '../repo/layout.js'
import { lifecycleFinding } from './codes.js'
import { deletedBlobsUnder, isGitRepo, lastLineChange, readBlob } from './git.js'
import { PROPOSAL_FILE_NAME, listProposalDir } from './proposals.js'

const ARMOR = /-----BEGIN AGE ENCRYPTED FILE-----([\s\S]*?)-----END AGE ENCRYPTED FILE-----/

/**
 * SHA-256 (hex) of the age binary `bytes` holds: the armor body with every
 * whitespace character removed and base64-decoded, or the bytes themselves
 * when they are not armored. Deliberately lenient (history may hold any
 * armor variant); the key-less check (KF150) is what refuses non-canonical armor.
 */
export const ciphertextDigest = (bytes: Uint8Array): string => {
    const text = Buffer.from(bytes).toString('latin1')
    const body = ARMOR.exec(text)?.[1]
    const binary = body === undefined ? Buffer.from(bytes) : Buffer.from(body.replace(/\s+/g, ''), 'base64')
    return createHash('sha256').update(binary).digest('hex')
}

/**
 * Reports KF154 for each proposal of `env` whose ciphertext ({@link ciphertextDigest})
 * equals that of a file a commit reachable from HEAD deleted from `environments/<env>/proposals/`.
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
    const deletedBy = new Map<string, string>()
    const seenBlobs = new Set<string>()
    for (const { commit, blob } of await deletedBlobsUnder(root, `${dir}/`)) {
        if (seenBlobs.has(blob)) continue
        seenBlobs.add(blob)
        const digest = ciphertextDigest(await readBlob(root, blob))
        if (!deletedBy.has(digest)) deletedBy.set(digest, commit)
    }
    const findings: Finding[] = []
    for (const entry of proposals) {
        const file = `${dir}/${entry}`
        const commit = deletedBy.get(ciphertextDigest(readFileSync(join(root, file))))
        if (commit === undefined) continue
        const name = PROPOSAL_FILE_NAME.exec(entry)?.[1] ?? entry
        findings.push(lifecycleFinding('KF154', file, undefined,
            `proposal ${name} was applied and removed before (commit ${commit.slice(0, 12)}): a replay of an old value; make a new proposal (\`keyfleet propose ${env} ${name}\`)`))
    }
    return findings
}

/** An opened proposal as {@link checkProposalFreshness} needs it. */
export interface ProposalTimes {
    readonly name: string
    /** Repository-relative path of the proposal file. */
    readonly file: string
    /** `created` from inside the sealed payload (ISO 8601). */
    readonly created: string
}

/**
 * KF155 for each opened proposal made before its key last changed in
 * `environments/<env>/env.secrets` (the newest commit reachable from HEAD
 * whose diff touches the `NAME=` line), or whose `created` is not a time.
 * A proposal made for an older state of the key would undo a later change,
 * whether that was a fold, a rotation or `keyfleet set`. Outside git: [].
 * @throws KeyfleetError `GIT_FAILED` / `GIT_MISSING`; `ENV_INVALID_NAME`.
 */
export const checkProposalFreshness = async (root: string, env: string, opened: readonly ProposalTimes[]): Promise<Finding[]> => {
    if (opened.length === 0 || !(await isGitRepo(root))) return []
    const secrets = environmentPaths(env).secrets
    const findings: Finding[] = []
    for (const p of opened) {
        const created = Date.parse(p.created)
        if (!/^\d{4}-\d{2}-\d{2}T/.test(p.created) || Number.isNaN(created)) {
            findings.push(lifecycleFinding('KF155', p.file, undefined, `proposal ${p.name} carries no valid creation time; make it again (\`keyfleet propose ${env} ${p.name}\`)`))
            continue
        }
        const change = await lastLineChange(root, secrets, p.name)
        // Commit times have whole seconds: a change in the same second as the proposal is not called stale (never a false refusal).
        if (change === undefined || created >= Date.parse(change.time)) continue
        findings.push(lifecycleFinding('KF155', p.file, undefined,
            `proposal ${p.name} was made at ${new Date(created).toISOString()}, before ${p.name} last changed (commit ${change.commit.slice(0, 12)} at ${change.time}): applying it would undo that change; make a new proposal (\`keyfleet propose ${env} ${p.name}\`)`))
    }
    return findings
}
