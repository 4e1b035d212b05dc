/** `keyfleet edit <env>`: open an environment in $EDITOR through sops. */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { changeViaTempCopy } from '../../repo/atomic.js'
import { sopsEdit } from '../../sops/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, openRepo, sopsOptions } from '../repo-context.js'
import { existingSecrets } from '../secret-target.js'
import { dotenvNames, guardRemoval } from '../removal-guard.js'

export const command: Command = {
    name: 'edit',
    summary: 'Edit an environment in $EDITOR (sops decrypts to a private temp file and re-encrypts)',
    usage: 'edit <env> [--force] [--identity-file FILE]',
    positionals: [1, 1],
    help: `sops writes the plaintext to a temporary file readable only by you, starts $EDITOR
(or $VISUAL, else vi) on it, re-encrypts on save and removes it. Unchanged values keep
their ciphertext. Prefer \`keyfleet set\` for one key: it checks names and formats.
An edit that removes a key an agent reads, or one the catalog requires here, is not
saved (the agents are named); --force saves it. Run \`keyfleet validate\` afterwards.

Example:
  EDITOR=nano keyfleet edit dev`,
    options: {
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
        force: { type: 'boolean', description: 'save even when the edit removes a key that agents read or the catalog requires (they are named)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const repo = openRepo(ctx)
        const target = existingSecrets(repo, positionals[0] as string)
        const env = positionals[0] as string
        const editor = ctx.env.EDITOR || ctx.env.VISUAL || 'vi'
        const before = dotenvNames(readFileSync(target.file, 'utf8'))
        let warnings: string[] = []
        const options = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
        try {
            await changeViaTempCopy(target.file, async (temp) => {
                await sopsEdit(relative(repo.root, temp), editor, options)
                // Names are in clear in the re-encrypted copy: a guarded key gone means the copy is discarded.
                const after = new Set(dotenvNames(readFileSync(temp, 'utf8')))
                warnings = guardRemoval(repo, env, before.filter((n) => !after.has(n)), values.force === true)
            })
        } catch (error) {
            if (error instanceof KeyfleetError && error.code === 'SOPS_NOT_MODIFIED') {
                ctx.stderr.write('no changes\n')
                return ExitCode.ok
            }
            throw error
        }
        for (const line of warnings) ctx.stderr.write(`${line}\n`)
        ctx.stdout.write(`saved ${target.paths.secrets}; run \`keyfleet validate\` and review \`git diff\`\n`)
        return ExitCode.ok
    },
}
