/**
 * `keyfleet proposals check|ls|fold <env>`: the key-less check of an
 * environment's proposals (what the pull request runs), and the keyed fold
 * into env.secrets (what the deploy job runs, or an admin locally).
 */
import { KeyfleetError, isKeyfleetError } from '../../errors.js'
import { formatFinding, hasErrors } from '../../findings.js'
import { checkProposalReplays, checkProposalsKeyless, foldProposals, listProposalDir } from '../../lifecycle/index.js'
import { assertEnvironment } from '../../repo/layout.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, identityStrings, openRepo, sopsOptions } from '../repo-context.js'

const ACTIONS = ['check', 'ls', 'fold'] as const

export const command: Command = {
    name: 'proposals',
    summary: 'Check (key-less) or fold (keyed) the proposals of an environment',
    usage: 'proposals <check|ls|fold> <env> [--identity-file FILE]',
    positionals: [2, 2],
    help: `check  key-less: each proposal is an armored age file named <NAME>.age for a catalog
       name, with no plaintext key in it (exit 1 on findings; this is what a pull
       request runs)
ls     list the pending proposals (key-less)
fold   open every proposal with the environment's CI identity, check each value
       (format rule, placeholder), apply all of them with \`sops set\` (all or
       nothing) and delete the proposal files. Commit the result.

The identity comes from --identity-file, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY; it must open
the proposals (the CI identity, or an admin's when proposed with --all-recipients)
and env.secrets.

Examples:
  keyfleet proposals check prod
  SOPS_AGE_KEY_FILE=prod-ci.agekey keyfleet proposals fold prod`,
    options: {
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file for fold (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [action, env] = positionals as [string, string]
        if (!(ACTIONS as readonly string[]).includes(action)) {
            throw new KeyfleetError('USAGE', `unknown action "${action.slice(0, 20)}"; expected one of ${ACTIONS.join(', ')}`)
        }
        const repo = openRepo(ctx)
        const paths = assertEnvironment(repo.root, env, repo.catalog.environments)
        if (action === 'ls') {
            const { proposals } = listProposalDir(repo.root, env)
            ctx.stdout.write(proposals.length === 0 ? `no proposals for ${env}\n` : proposals.map((p) => `${paths.proposals}/${p}\n`).join(''))
            return ExitCode.ok
        }
        if (action === 'check') {
            const findings = [...checkProposalsKeyless(repo.root, env, repo.catalog), ...await checkProposalReplays(repo.root, env)]
            for (const f of findings) ctx.stdout.write(`${formatFinding(f)}\n`)
            const count = listProposalDir(repo.root, env).proposals.length
            ctx.stderr.write(`${count} proposal(s) in ${env}, ${findings.length} finding(s)\n`)
            return hasErrors(findings) ? ExitCode.findings : ExitCode.ok
        }
        if (listProposalDir(repo.root, env).proposals.length === 0) {
            // Nothing to fold: no identity needed, so a deploy job can run this step unconditionally.
            ctx.stdout.write(`no proposals for ${env}\n`)
            return ExitCode.ok
        }
        const identity = identityFrom(ctx, values['identity-file'] as string | undefined)
        const identities = identityStrings(identity)
        if (identities.length === 0) {
            throw new KeyfleetError('IDENTITY_MISSING', `fold needs the ${env} CI identity: pass --identity-file or set SOPS_AGE_KEY_FILE / SOPS_AGE_KEY`)
        }
        try {
            const result = await foldProposals({ root: repo.root, env, identities, sops: sopsOptions(ctx, repo.root, identity), catalog: repo.catalog })
            if (result.applied.length === 0) {
                ctx.stdout.write(`no proposals for ${env}\n`)
                return ExitCode.ok
            }
            for (const name of result.applied) ctx.stdout.write(`applied ${name} to ${env} (${result.hints[name] ?? ''})\n`)
            ctx.stderr.write(`next: commit ${paths.secrets} and the removal of ${result.removed.length} proposal file(s)\n`)
            return ExitCode.ok
        } catch (error) {
            if (isKeyfleetError(error) && error.code === 'PROPOSAL_NO_IDENTITY') {
                ctx.stderr.write(`keyfleet proposals: ${error.message} [${error.code}]\n`)
                return ExitCode.decrypt
            }
            throw error
        }
    },
}
