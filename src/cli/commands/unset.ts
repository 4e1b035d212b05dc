/** `keyfleet unset <env> <NAME>`: remove one key through sops. */
import { relative } from 'node:path'
import { changeViaTempCopy } from '../../repo/atomic.js'
import { sopsUnset } from '../../sops/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, openRepo, sopsOptions } from '../repo-context.js'
import { canonicalName, existingSecrets } from '../secret-target.js'
import { guardRemoval } from '../removal-guard.js'

export const command: Command = {
    name: 'unset',
    summary: 'Remove one key from an environment',
    usage: 'unset <env> <NAME> [--force] [--identity-file FILE]',
    positionals: [2, 2],
    help: `Removes NAME (or the canonical name of an alias) from environments/<env>/env.secrets.
A key that an agent of deployment.yaml reads, or that the catalog requires in <env>
(required_in), is refused with the agents named; --force removes it anyway.

Example:
  keyfleet unset dev FIREWORKS_API_KEY`,
    options: {
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
        force: { type: 'boolean', description: 'remove a key that agents read or the catalog requires here (they are named)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env, rawName] = positionals as [string, string]
        const repo = openRepo(ctx)
        const target = existingSecrets(repo, env)
        const { name } = canonicalName(repo, rawName, true)
        const warnings = guardRemoval(repo, env, [name], values.force === true)
        const options = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
        await changeViaTempCopy(target.file, (temp) => sopsUnset(relative(repo.root, temp), name, options))
        for (const line of warnings) ctx.stderr.write(`${line}\n`)
        ctx.stdout.write(`removed ${name} from ${env}\n`)
        return ExitCode.ok
    },
}
