/**
 * `command: diff`: the change report between `base-ref` and the checkout,
 * per environment: names added, changed and removed, recipients, the agents
 * affected, and (keyed, one environment) a hint per changed key. Values of
 * both revisions are masked before the report is built.
 */
import { isKeyfleetError } from '../../errors.js'
import { changeReport, changeReportMarkdown, type ChangeReport } from '../../validate/index.js'
import { decryptAndMask, maskValuesAt } from '../secrets.js'
import type { CommandContext, CommandResult } from './types.js'

/**
 * Every name added, changed or removed in `report`, sorted, each once. A name
 * re-encrypted under a new data key whose value could not be compared (no key)
 * counts as changed: it may have changed, and a rotation must not hide that.
 */
export const changedNames = (report: ChangeReport): string[] =>
    [...new Set(report.environments.flatMap((e) => [
        ...e.added, ...e.changed, ...e.removed, ...e.reencrypted.filter((name) => e.statuses[name] === 'reencrypted'),
    ]))].sort()

/** Every name re-encrypted under a new data key (value compared with a key or not), sorted, each once. */
export const reencryptedNames = (report: ChangeReport): string[] =>
    [...new Set(report.environments.flatMap((e) => e.reencrypted))].sort()

/**
 * Builds the change report for one environment or all of them.
 *
 * @param baseRef - The revision to compare with.
 * @throws KeyfleetError `GIT_FAILED` for an unknown ref; decryption errors
 *   of the head revision when keyed.
 */
export const reportChanges = async ({ inputs, setSecret }: CommandContext, baseRef: string): Promise<ChangeReport> => {
    const { root, environment, identities } = inputs
    const keyed = identities.length > 0 && environment !== undefined
    if (keyed) {
        // A file removed at head has nothing to mask there; any other failure stops the step.
        await decryptAndMask(root, environment, identities, setSecret).catch((error: unknown) => {
            if (!(isKeyfleetError(error) && error.code === 'ACTION_NO_SECRETS_FILE')) throw error
        })
        await maskValuesAt(root, baseRef, environment, identities, setSecret)
    }
    const report = await changeReport({ root, base: baseRef, ...(keyed ? { identities: { [environment]: [...identities] } } : {}) })
    return environment === undefined ? report : { ...report, environments: report.environments.filter((e) => e.env === environment) }
}

/** Runs the diff command. */
export const runDiff = async (ctx: CommandContext): Promise<CommandResult> => {
    // readInputs guarantees base-ref for diff.
    const report = await reportChanges(ctx, ctx.inputs.baseRef as string)
    return {
        findings: [],
        summary: [changeReportMarkdown(report)],
        outputs: { changed: changedNames(report).join(','), reencrypted: reencryptedNames(report).join(',') },
        failed: false,
    }
}
