/**
 * `keyfleet diff`: the change report between two revisions, as text tables,
 * Markdown (for a PR comment or the step summary) or JSON. Names, statuses,
 * recipients and, with an identity, hints; never a value.
 */
import { changeReport, changeReportMarkdown, changeReportText, discoverEnvironments, readRepoCatalog } from '../../validate/index.js'
import { KeyfleetError } from '../../errors.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { gatherIdentities, identityOptions } from './validate.js'
import { repoRootFor } from '../repo-context.js'

export const command: Command = {
    name: 'diff',
    summary: 'Report which secret names changed between two git revisions (never the values)',
    usage: 'diff --base <ref> [--head <ref>] [options]',
    help: `Per environment: names added, removed, changed (ciphertext changed) and unchanged, and
recipients added and removed. When the data key was rotated every ciphertext changes: without a
key those names are listed as re-encrypted (values not compared); with the identity each is
either changed or re-encrypted with the same value (metadata only). With an identity, each added
or changed key gets a hint: provider, length, last four characters. Without --head the working
tree is compared. See docs/change-report.md.

Examples:
  keyfleet diff --base origin/main
  keyfleet diff --base origin/main --head HEAD --markdown >> "$GITHUB_STEP_SUMMARY"
  keyfleet diff --base HEAD~1 --identity prod=examples/demo-keys/prod.agekey --json`,
    options: {
        base: { type: 'string', arg: 'REF', description: 'the revision to compare against (required), e.g. origin/main' },
        head: { type: 'string', arg: 'REF', description: 'the revision to report on (default: the working tree)' },
        markdown: { type: 'boolean', description: 'print Markdown: a table per environment' },
        json: { type: 'boolean', description: 'print the report as JSON' },
        'fail-on-change': { type: 'boolean', description: 'exit 1 when any environment changed' },
        ...identityOptions,
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: the nearest directory at or above the current one holding .sops.yaml or environments/keyfleet.yaml)' },
    },
    positionals: [0, 0],
    run: async (args, ctx) => {
        const base = args.values.base
        if (typeof base !== 'string' || base === '') throw new KeyfleetError('USAGE', '--base <ref> is required, e.g. keyfleet diff --base origin/main')
        if (args.values.markdown === true && args.values.json === true) throw new KeyfleetError('USAGE', 'choose one of --markdown and --json')
        const root = repoRootFor(ctx, args.values.root)
        const envs = discoverEnvironments(root, readRepoCatalog(root).catalog)
        const identities = await gatherIdentities(args, ctx, root, envs, false)
        const head = typeof args.values.head === 'string' ? args.values.head : undefined
        const report = await changeReport({ root, base, identities, ...(head === undefined ? {} : { head }) })
        // Nothing to compare is not "no change": a wrong --base, --root or checkout must not pass a check.
        if (report.environments.length === 0) {
            throw new KeyfleetError('DIFF_NOTHING_TO_COMPARE', `no environments/*/env.secrets at ${base} or at ${head ?? 'the work tree'} under ${root}; check --base, --head and that you are in the right repository`)
        }
        if (args.values.json === true) ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
        else if (args.values.markdown === true) ctx.stdout.write(changeReportMarkdown(report))
        else ctx.stdout.write(changeReportText(report))
        const changed = report.environments.some((e) => e.status !== 'unchanged')
        return args.values['fail-on-change'] === true && changed ? ExitCode.findings : ExitCode.ok
    },
}
