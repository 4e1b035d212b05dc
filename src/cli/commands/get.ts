/** `keyfleet get <env> <NAME>`: one value on stdout, for scripts. */
import { readFileSync } from 'node:fs'
import { withBareNames } from '../../catalog/bare-names.js'
import { KeyfleetError } from '../../errors.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { decryptNative, nativeIdentities, openRepo } from '../repo-context.js'
import { describeName, existingSecrets } from '../secret-target.js'

export const command: Command = {
    name: 'get',
    summary: 'Print one value (for scripts); decrypts in process, no sops needed',
    usage: 'get <env> <NAME> [--identity-file FILE]',
    positionals: [2, 2],
    help: `Prints the value of NAME (or of the key an alias or service name stands for)
followed by a newline. The file's MAC is verified first. Avoid it in CI logs;
the GitHub Action masks values for you. When a key's pool has no bare member
(rotate-key left only OPENAI_API_KEY_2), its name stands for the newest member.

Example:
  SOPS_AGE_KEY_FILE=examples/demo-keys/dev.agekey keyfleet get dev openai`,
    options: {
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env, rawName] = positionals as [string, string]
        const repo = openRepo(ctx)
        const target = existingSecrets(repo, env)
        const identities = nativeIdentities(ctx, values['identity-file'] as string | undefined)
        if (identities.length === 0) throw new KeyfleetError('IDENTITY_MISSING', 'no age identity: pass --identity-file or set SOPS_AGE_KEY_FILE / SOPS_AGE_KEY')
        const decrypted = await decryptNative(readFileSync(target.file, 'utf8'), { store: 'dotenv', identities, file: target.paths.secrets })
        const values_ = withBareNames(decrypted.toEnvMap(), repo.index)
        const name = repo.index.resolve(rawName)?.name ?? rawName
        // A pool without its bare member (after rotate-key): the bare name is its newest member.
        const value = values_.get(name)
        if (value === undefined) throw new KeyfleetError('GET_NOT_FOUND', `${describeName(name)} is not set in ${env}; \`keyfleet ls ${env}\` lists its names`)
        ctx.stdout.write(`${value}\n`)
        return ExitCode.ok
    },
}
