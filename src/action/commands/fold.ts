/**
 * `command: fold`: the deploy job's half of write-only proposals. Opens every
 * `environments/<env>/proposals/<NAME>.age` with the environment's CI
 * identity, masks each proposed value (all forms) before any other work,
 * checks it (placeholder and format rule; the provider probe with `live`),
 * then applies all of them with `sops set` and removes the proposal files
 * (src/lifecycle foldProposals: all or nothing). The workflow commits the
 * result back (docs/github-action.md, "Folding proposals").
 *
 * Plaintext stays in this process and on sops's stdin: no file but
 * env.secrets, which sops writes encrypted, is touched.
 */
import { indexCatalog, isPlaceholder, type Catalog } from '../../catalog/index.js'
import { isKeyfleetError } from '../../errors.js'
import { hasErrors, type Finding } from '../../findings.js'
import { checkProposalReplays, checkProposalsKeyless, foldProposals, listProposalDir, openProposals, proposedValueProblem, type OpenedProposal } from '../../lifecycle/index.js'
import { checkEnvironment, checkMarkdown, probeFindings, type ProbeResult } from '../../probe/index.js'
import { environmentPaths } from '../../repo/layout.js'
import { finding } from '../../validate/codes.js'
import { readRepoCatalog } from '../../validate/repository.js'
import { maskAll } from '../mask.js'
import { assertEnvironment } from '../repo.js'
import { actionSopsOptions } from '../sops.js'
import { cell, findingsMarkdown } from '../summary.js'
import { checkBaseUrls } from './check.js'
import type { CommandContext, CommandResult } from './types.js'

/** Outputs of a run that changed nothing. */
const UNCHANGED = { folded: '', changed: 'false' } as const

/**
 * Opens the proposals and masks every value before returning. When a file
 * cannot be opened, the key-less findings (one per bad file, with its line)
 * explain it better than the first error alone, so they are returned instead;
 * with no such finding the error is rethrown.
 */
const openAndMask = async (ctx: CommandContext, env: string, catalog: () => Catalog): Promise<{ proposals: OpenedProposal[] } | { findings: Finding[] }> => {
    const { root, identities } = ctx.inputs
    try {
        const proposals = await openProposals(root, env, identities)
        maskAll(proposals.map((p) => p.value), ctx.setSecret)
        return { proposals }
    } catch (error) {
        const findings = isKeyfleetError(error) ? checkProposalsKeyless(root, env, catalog()) : []
        if (hasErrors(findings)) return { findings }
        throw error
    }
}

/** Placeholder and format-rule findings (KF142, KF141) at each proposal file; hints without the last four. */
const offlineFindings = (catalog: Catalog, proposals: readonly OpenedProposal[]): Finding[] => {
    const index = indexCatalog(catalog)
    const out: Finding[] = []
    for (const p of proposals) {
        const problem = proposedValueProblem(index, p.name, p.value)
        if (problem === undefined) continue
        out.push(finding(isPlaceholder(p.value) ? 'KF142' : 'KF141', p.file, undefined, `${problem}; nothing was applied. Propose a correct value with \`keyfleet propose\`, or remove the file.`))
    }
    return out
}

/** The fold's summary table: names and hints only. */
const foldedMarkdown = (env: string, applied: readonly string[], hints: Readonly<Record<string, string>>, removed: readonly string[]): string => {
    const lines = [`### Folded into environments/${cell(env)}/env.secrets`, '', '| name | key | proposal removed |', '|---|---|---|']
    applied.forEach((name, i) => lines.push(`| ${cell(name)} | ${cell(hints[name] ?? '')} | \`${cell(removed[i] ?? '')}\` |`))
    lines.push('')
    return lines.join('\n')
}

/**
 * Runs the fold. Outputs `folded` (comma-separated names applied) and
 * `changed` (`true` when env.secrets and the proposals changed).
 *
 * @throws KeyfleetError `ACTION_UNKNOWN_ENVIRONMENT`, the errors of
 *   openProposals that no key-less finding explains (`PROPOSAL_NO_IDENTITY`,
 *   `PROPOSAL_MISPLACED`, ...), a bad base-urls input (before any key is
 *   sent) and sops errors (`SOPS_MISSING`, `SOPS_COULD_NOT_RETRIEVE_KEY`, ...);
 *   in every case nothing was applied.
 */
export const runFold = async (ctx: CommandContext): Promise<CommandResult> => {
    const { root, environment, identities, live, strict, baseUrls } = ctx.inputs
    // readInputs guarantees environment and identities for fold.
    const env = environment as string
    const title = `Fold proposals: ${env}`
    const repo = readRepoCatalog(root)
    if (!repo.valid) return { findings: repo.findings, summary: [findingsMarkdown(title, repo.findings)], outputs: UNCHANGED, failed: true }
    const { catalog } = repo
    assertEnvironment(catalog, env)

    const { proposals: entries, others } = listProposalDir(root, env)
    if (entries.length === 0 && others.length === 0) {
        return { findings: [], summary: [`### ${cell(title)}\n\nNo proposals in \`${environmentPaths(env).proposals}/\`.\n`], outputs: UNCHANGED, failed: false }
    }

    // Mask before any other work with the values: nothing below may run with an unmasked value in memory.
    const opened = await openAndMask(ctx, env, () => catalog)
    if ('findings' in opened) return { findings: opened.findings, summary: [findingsMarkdown(title, opened.findings)], outputs: UNCHANGED, failed: true }
    const { proposals } = opened

    const findings: Finding[] = [...checkProposalsKeyless(root, env, catalog), ...await checkProposalReplays(root, env), ...offlineFindings(catalog, proposals)]
    let results: ProbeResult[] | undefined
    // A value that fails offline is never sent to a provider.
    if (live && !hasErrors(findings)) {
        await checkBaseUrls(catalog, baseUrls)
        results = await checkEnvironment({ env, values: new Map(proposals.map((p) => [p.name, p.value])), catalog, baseUrls, allowedOrigins: ctx.inputs.allowedOrigins })
        const fileOf = new Map(proposals.map((p) => [p.name, p.file]))
        for (const r of results) findings.push(...probeFindings([r], fileOf.get(r.name) ?? environmentPaths(env).proposals, undefined, { strict }))
    }
    const summary = [findingsMarkdown(`${title} (${live ? `offline and live${strict ? ', strict' : ''}` : 'offline'} checks)`, findings)]
    if (results) summary.push(checkMarkdown(results, { title: `Live key check: ${env} proposals` }))
    if (hasErrors(findings)) {
        summary.push(`Nothing was applied: ${proposals.length} proposal(s) stay in \`${environmentPaths(env).proposals}/\`.\n`)
        return { findings, summary, outputs: UNCHANGED, failed: true }
    }

    // foldProposals repeats the offline checks (cheap) and applies all or nothing.
    const result = await foldProposals({ root, env, identities, sops: actionSopsOptions(ctx.env, root, identities), catalog })
    summary.push(foldedMarkdown(env, result.applied, result.hints, result.removed))
    return {
        findings,
        summary,
        outputs: { folded: result.applied.join(','), changed: String(result.applied.length > 0) },
        failed: false,
    }
}
