/**
 * `keyfleet propose <env> <NAME>`: change a key without being able to read
 * the environment. The value is sealed to the environment's CI recipient
 * (a public key from .sops.yaml) into a proposal file for the pull request.
 */
import { formatHint, keyHint } from '../../catalog/index.js'
import { createProposal } from '../../lifecycle/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { openRepo } from '../repo-context.js'
import { readSecretValue } from '../secret-input.js'
import { canonicalName, checkValue, secretsTarget } from '../secret-target.js'

export const command: Command = {
    name: 'propose',
    summary: 'Propose a new value for a key without access to the environment (write-only)',
    usage: 'propose <env> <NAME> [--all-recipients]',
    positionals: [2, 2],
    help: `Seals the value with age to the environment's CI recipient (the one commented
\`# ci:<env>\` in .sops.yaml; every recipient of the rule when none is marked) and
writes environments/<env>/proposals/<NAME>.age. No identity is needed: commit the file
and open a pull request. The pull request checks it without any key; on merge the
deploy job folds it into env.secrets (\`keyfleet proposals fold\`). The value is read
from stdin when piped, otherwise from a hidden prompt. See docs/lifecycle.md.

Examples:
  keyfleet propose prod OPENAI_API_KEY                    # prompts, input hidden
  pbpaste | keyfleet propose prod CLAUDE_API_KEY          # alias: proposes ANTHROPIC_API_KEY
  keyfleet propose prod OPENAI_API_KEY_2 < key.txt        # a second key of the OpenAI pool`,
    options: {
        'all-recipients': { type: 'boolean', description: 'Seal to every recipient of the rule (admins can then fold locally), not only the CI one' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env, rawName] = positionals as [string, string]
        const repo = openRepo(ctx)
        const target = secretsTarget(repo, env)
        // Unknown names are refused: the pull-request check would reject the proposal anyway.
        const { name, note } = canonicalName(repo, rawName, false)
        if (note) ctx.stderr.write(`note: ${note}\n`)
        const value = await readSecretValue(ctx, name)
        // No --force: the fold refuses such a value anyway. If the provider changed its key
        // format, update the catalog's rule in the same pull request.
        checkValue(repo, name, value, false)
        const result = await createProposal({ root: repo.root, env: target.paths.env, name, value, allRecipients: values['all-recipients'] === true })
        ctx.stdout.write(`proposed ${name} for ${env} (${formatHint(keyHint(name, value, repo.index))}) in ${result.file}\n`)
        if (result.replaced) ctx.stderr.write(`note: replaced the earlier proposal for ${name}\n`)
        ctx.stderr.write(result.ciOnly
            ? `sealed to the ${env} CI recipient only: you cannot read it back, and neither can anyone without that key\n`
            : `sealed to all ${result.recipients.length} recipient(s) of the ${env} rule${values['all-recipients'] === true ? '' : ` (no recipient is commented \`# ci:${env}\` in .sops.yaml)`}\n`)
        ctx.stderr.write(`next: commit ${result.file} and open a pull request; the deploy job applies it on merge\n`)
        return ExitCode.ok
    },
}
