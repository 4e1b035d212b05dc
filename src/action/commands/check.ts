/**
 * `command: check`: the keyed offline checks of one environment (format
 * rule, placeholder, one value under two names) and, with `live` (the
 * default), each key tried against its provider (src/probe), as
 * `keyfleet check --live` does. Values are decrypted and masked first; the
 * probes, findings and summary are built from names, statuses and hints.
 */
import { indexCatalog, type Catalog } from '../../catalog/index.js'
import { isKeyfleetError, KeyfleetError } from '../../errors.js'
import { hasErrors, type Finding } from '../../findings.js'
import { checkEnvironment, checkMarkdown, probeFindings, probeKeys, type ProbeResult } from '../../probe/index.js'
import { checkKeyed } from '../../validate/keyed.js'
import { readRepoCatalog } from '../../validate/repository.js'
import { assertEnvironment } from '../repo.js'
import { decryptTextAndMask, readSecretsText, secretLines, secretsFile } from '../secrets.js'
import { findingsMarkdown } from '../summary.js'
import type { CommandContext, CommandResult } from './types.js'

/**
 * Checks the base-urls input against the catalog without sending anything:
 * a probe of no keys validates every override first.
 * @throws KeyfleetError `PROBE_UNKNOWN_PROVIDER`, `PROBE_BASE_URL_INVALID`, reworded for the input.
 */
export const checkBaseUrls = async (catalog: Catalog, baseUrls: Readonly<Record<string, string>>): Promise<void> => {
    try {
        await probeKeys(new Map(), catalog, { baseUrls })
    } catch (error) {
        if (!isKeyfleetError(error)) throw error
        throw new KeyfleetError(error.code, `the base-urls input: ${error.message.replace(/--base-url/g, 'base-urls')}`)
    }
}

/**
 * Runs the check. Error findings (an invalid key, an offline error, an
 * unknown result under `strict`) fail the step.
 *
 * @throws KeyfleetError from decryption (tampered file, wrong key),
 *   `ACTION_UNKNOWN_ENVIRONMENT`, and a bad base-urls input (before any key is sent).
 */
export const runCheck = async ({ inputs, setSecret }: CommandContext): Promise<CommandResult> => {
    const { root, environment, identities, live, strict, baseUrls } = inputs
    // readInputs guarantees environment and identities for check.
    const env = environment as string
    const file = secretsFile(env)
    const text = await readSecretsText(root, env)
    // Mask before any other work: nothing below may run with an unmasked value in memory.
    const values = await decryptTextAndMask(text, file, identities, setSecret)

    const repo = readRepoCatalog(root)
    if (!repo.valid) {
        return { findings: repo.findings, summary: [findingsMarkdown(`Check: ${env}`, repo.findings)], outputs: {}, failed: true }
    }
    const { catalog } = repo
    assertEnvironment(catalog, env)
    if (live) await checkBaseUrls(catalog, baseUrls)

    const lines = secretLines(text, file)
    const findings: Finding[] = await checkKeyed([{ env, file, text, identities, lineOf: (name) => lines.get(name) }], indexCatalog(catalog), undefined)
    let results: ProbeResult[] | undefined
    if (live) {
        results = await checkEnvironment({ env, values, catalog, baseUrls, allowedOrigins: inputs.allowedOrigins })
        // The offline findings already explain skipped placeholders and malformed values: one finding per problem.
        const explained = new Set(findings.map((f) => f.line))
        findings.push(...probeFindings(results, file, lines, { strict })
            .filter((f) => !(f.code === 'KF503' && f.line !== undefined && explained.has(f.line))))
    }
    const summary = [findingsMarkdown(`Check: ${env} (${live ? `offline and live${strict ? ', strict' : ''}` : 'offline only'})`, findings)]
    if (results) summary.push(checkMarkdown(results, { title: `Live key check: ${env}` }))
    return { findings, summary, outputs: {}, failed: hasErrors(findings) }
}
