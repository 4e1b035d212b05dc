/**
 * Folding proposals (keyed: the deploy job or an admin): open each proposal,
 * check its value, apply all of them to env.secrets through `sops set` in one
 * temp copy (all or nothing), then delete the proposal files.
 */
import { existsSync, readFileSync, readdirSync, rmdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { open } from '../age/index.js'
import { formatHint, indexCatalog, isPlaceholder, keyHint, type Catalog, type CatalogIndex } from '../catalog/index.js'
import { KeyfleetError, isKeyfleetError } from '../errors.js'
import { formatFinding, hasErrors, type Finding } from '../findings.js'
import { environmentPaths } from '../repo/layout.js'
import { writeSecretValues, type SopsOptions } from '../sops/index.js'
import { checkProposalFreshness, checkProposalReplays } from '../validate/proposal-replays.js'
import { checkProposalsKeyless, listProposalDir } from '../validate/proposals.js'
import { PROPOSAL_FILE, decodePayload } from './proposal-format.js'

/** One opened proposal. `value` is a secret: never print it. */
export interface OpenedProposal {
    readonly name: string
    readonly value: string
    /** Repository-relative path of the proposal file. */
    readonly file: string
    /** When it was made (ISO 8601, from inside the sealed payload). */
    readonly created: string
}

/**
 * Opens every proposal of `env`, sorted by name.
 * @param identities - age identities (`AGE-SECRET-KEY-1…`) of a proposal recipient, normally the CI identity.
 * @returns an empty list when there are no proposals.
 * @throws KeyfleetError `PROPOSAL_NO_IDENTITY` (none of the identities opens a file), `PROPOSAL_MALFORMED`,
 *   `PROPOSAL_MISPLACED` (payload made for another env or name), `PROPOSAL_NAME` (file not named `<NAME>.age`).
 */
export const openProposals = async (root: string, env: string, identities: readonly string[]): Promise<OpenedProposal[]> => {
    const dir = environmentPaths(env).proposals
    const out: OpenedProposal[] = []
    for (const entry of listProposalDir(root, env).proposals) {
        const file = `${dir}/${entry}`
        const name = PROPOSAL_FILE.exec(entry)?.[1]
        if (name === undefined) throw new KeyfleetError('PROPOSAL_NAME', `${file} is not named <NAME>.age; remove it`, { file })
        let bytes: Uint8Array
        try {
            bytes = await open(readFileSync(join(root, file), 'utf8'), identities)
        } catch (error) {
            if (isKeyfleetError(error) && error.code === 'AGE_NO_MATCHING_IDENTITY') {
                throw new KeyfleetError('PROPOSAL_NO_IDENTITY', `${file} is sealed to ${env}'s CI recipient and none of the given identities opens it; use the ${env} CI identity (SOPS_AGE_KEY in the deploy job)`, { file, cause: error })
            }
            if (isKeyfleetError(error)) throw new KeyfleetError('PROPOSAL_MALFORMED', `${file}: ${error.message}`, { file, cause: error })
            throw error
        }
        const payload = decodePayload(bytes, file, env, name)
        out.push({ name, value: payload.value, file, created: payload.created })
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * The reason a proposed value may not be stored (placeholder, format rule), or undefined.
 * The reason carries the hint shape without the last four characters, never the value.
 */
export const proposedValueProblem = (index: CatalogIndex, name: string, value: string): string | undefined => {
    const hint = formatHint({ ...keyHint(name, value, index), last4: '' })
    if (value.trim() === '' || /[\r\n]/.test(value) || value !== value.trim()) return `the value for ${name} (${hint}) is empty, spans lines or has surrounding whitespace`
    if (isPlaceholder(value)) return `the value for ${name} (${hint}) looks like a placeholder`
    const spec = index.resolve(name)?.spec
    if (spec?.format && !spec.format.test(value)) return `the value for ${name} (${hint}) does not match the ${spec.title} key format ${spec.format.source}`
    return undefined
}

/** Options of {@link foldProposals}. */
export interface FoldOptions {
    readonly root: string
    readonly env: string
    /** Identities that open the proposals (the environment's CI identity). */
    readonly identities: readonly string[]
    /** How to run sops; its identity must open env.secrets. */
    readonly sops: SopsOptions
    readonly catalog: Catalog
    /**
     * Optional live check (e.g. a provider probe) of each value; error-level
     * findings reject the fold. Findings must name, never quote, the value.
     */
    readonly check?: (name: string, value: string) => Promise<readonly Finding[]> | readonly Finding[]
}

/** What {@link foldProposals} did. */
export interface FoldResult {
    /** Names written to env.secrets, sorted. */
    readonly applied: string[]
    /** Proposal files removed (repository-relative). */
    readonly removed: string[]
    /** Hint per applied name (provider, length, last four), for the summary. */
    readonly hints: Readonly<Record<string, string>>
}

/**
 * Applies every proposal of `env` to its env.secrets and removes the proposal files.
 * All or nothing: when any proposal fails a check, or sops fails, env.secrets
 * and the proposals stay as they were.
 * @returns `applied: []` when there are no proposals (nothing is touched).
 * @throws KeyfleetError `PROPOSALS_INVALID` (key-less findings, including KF154 replays), `PROPOSAL_REJECTED` (format rule,
 *   placeholder or `check` findings), the errors of {@link openProposals}, and sops errors
 *   (e.g. `SOPS_COULD_NOT_RETRIEVE_KEY` when the sops identity cannot open env.secrets).
 */
export const foldProposals = async (options: FoldOptions): Promise<FoldResult> => {
    const { root, env, catalog } = options
    const index = indexCatalog(catalog)
    // Replays (KF154) are refused here too: the deploy job may fold without the PR check having run.
    const keyless = [...checkProposalsKeyless(root, env, catalog), ...await checkProposalReplays(root, env)]
    if (hasErrors(keyless)) {
        throw new KeyfleetError('PROPOSALS_INVALID', `the proposals of ${env} fail their checks; nothing was applied:\n${keyless.map((f) => `  ${formatFinding(f)}`).join('\n')}`)
    }
    const proposals = await openProposals(root, env, options.identities)
    if (proposals.length === 0) return { applied: [], removed: [], hints: {} }
    // KF155 needs the sealed creation time, so only the keyed fold can check it.
    const stale = await checkProposalFreshness(root, env, proposals)
    if (hasErrors(stale)) {
        throw new KeyfleetError('PROPOSALS_INVALID', `the proposals of ${env} fail their checks; nothing was applied:\n${stale.map((f) => `  ${formatFinding(f)}`).join('\n')}`)
    }
    const problems: string[] = []
    for (const p of proposals) {
        const problem = proposedValueProblem(index, p.name, p.value)
        if (problem) { problems.push(`${p.file}: ${problem}`); continue }
        const found = options.check ? await options.check(p.name, p.value) : []
        for (const f of found.filter((x) => x.severity === 'error')) problems.push(`${p.file}: ${f.code} ${f.message}`)
    }
    if (problems.length > 0) {
        throw new KeyfleetError('PROPOSAL_REJECTED', `nothing was applied; fix or remove these proposals (\`keyfleet propose\` again):\n${problems.map((p) => `  ${p}`).join('\n')}`)
    }
    const paths = environmentPaths(env)
    // Checked with plain `sops decrypt` before env.secrets is replaced (src/sops/write-file.ts).
    await writeSecretValues(root, paths.secrets, new Map(proposals.map((p) => [p.name, p.value])), options.sops)
    for (const p of proposals) rmSync(join(root, p.file), { force: true })
    const dir = join(root, paths.proposals)
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir)
    const hints: Record<string, string> = {}
    for (const p of proposals) hints[p.name] = formatHint(keyHint(p.name, p.value, index))
    return { applied: proposals.map((p) => p.name), removed: proposals.map((p) => p.file), hints }
}
