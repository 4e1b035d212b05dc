/**
 * `command: validate`. Key-less when no age-key is given: structure, names,
 * recipients, plaintext-key scan of every environment (or the one named).
 * Keyed when an age-key is given: the environment's values are decrypted
 * and masked first, then checked against the catalog's format rules.
 */
import { hasErrors } from '../../findings.js'
import { validateRepository } from '../../validate/index.js'
import { decryptAndMask } from '../secrets.js'
import { findingsMarkdown } from '../summary.js'
import type { CommandContext, CommandResult } from './types.js'

/**
 * Runs the validation.
 *
 * @throws KeyfleetError from decryption (tampered file, wrong key) and from
 *   reading the repository; findings are returned, not thrown.
 */
export const runValidate = async ({ inputs, setSecret }: CommandContext): Promise<CommandResult> => {
    const { root, environment, identities, baseRef } = inputs
    const keyed = identities.length > 0 && environment !== undefined
    if (keyed) await decryptAndMask(root, environment, identities, setSecret)
    const findings = await validateRepository({
        root,
        ...(environment === undefined ? { all: true } : { environments: [environment] }),
        ...(keyed ? { identities: { [environment]: [...identities] } } : {}),
        ...(baseRef === undefined ? {} : { base: baseRef }),
        allowedOrigins: inputs.allowedOrigins,
    })
    const scope = environment ?? 'all environments'
    return {
        findings,
        summary: [findingsMarkdown(`Validation: ${scope} (${keyed ? 'keyed' : 'key-less'})`, findings)],
        outputs: {},
        failed: hasErrors(findings),
    }
}
