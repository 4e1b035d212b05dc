/** `keyfleet set <env> <NAME>`: store one key through sops, value from stdin or a hidden prompt. */
import { formatHint, keyHint, resolveStored } from '../../catalog/index.js'
import { KeyfleetError } from '../../errors.js'
import { writeSecretValues } from '../../sops/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, openRepo, sopsOptions } from '../repo-context.js'
import { readSecretValue } from '../secret-input.js'
import { canonicalName, checkValue, secretsTarget } from '../secret-target.js'

export const command: Command = {
    name: 'set',
    summary: 'Add or change one key in an environment (value from stdin or a hidden prompt)',
    usage: 'set <env> <NAME> [--allow-unknown] [--force] [--identity-file FILE]',
    positionals: [2, 2],
    help: `The value is read from stdin when it is piped, otherwise from a hidden prompt; never
from the command line, where \`ps\` and shell history would show it. sops re-encrypts
only this key: the pull-request diff shows one changed line plus sops_mac/sops_lastmodified.
Needs an identity that can open the environment (--identity-file, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY).

A piped value may span lines (a PEM key, service-account JSON); one trailing newline
is removed. A value holding a literal backslash-n is refused: sops's dotenv format
could not give it back unchanged (see docs/authoring.md).

Examples:
  keyfleet set prod OPENAI_API_KEY                       # prompts, input hidden
  pbpaste | keyfleet set prod OPENAI_API_KEY
  keyfleet set dev CLAUDE_API_KEY < key.txt               # alias: stored as ANTHROPIC_API_KEY
  keyfleet set dev MY_TOOL_TOKEN --allow-unknown < t.txt`,
    options: {
        'allow-unknown': { type: 'boolean', description: 'Accept a name the catalog does not know' },
        force: { type: 'boolean', description: 'Store a value that fails the provider format rule or looks like a placeholder' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env, rawName] = positionals as [string, string]
        const repo = openRepo(ctx)
        const target = secretsTarget(repo, env)
        const { name, note } = canonicalName(repo, rawName, values['allow-unknown'] === true, env)
        if (note) ctx.stderr.write(`note: ${note}\n`)
        const value = await readSecretValue(ctx, name)
        // An API key with a format rule is one line: several lines means the wrong thing was piped in.
        if (/[\r\n]/.test(value) && resolveStored(repo.index, name)?.spec.format && values.force !== true) {
            throw new KeyfleetError('VALUE_MULTILINE', `the value for ${name} spans several lines; ${name} keys are one line — check what you piped in (nothing was changed; --force to store it anyway)`)
        }
        checkValue(repo, name, value, values.force === true)
        const options = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
        // Checked with plain `sops decrypt` before the file is replaced (src/sops/write-file.ts).
        await writeSecretValues(repo.root, target.paths.secrets, new Map([[name, value]]), options)
        ctx.stdout.write(`set ${name} in ${env} (${formatHint(keyHint(name, value, repo.index))})\n`)
        ctx.stderr.write(`next: review \`git diff ${target.paths.secrets}\`, commit it and open a pull request\n`)
        return ExitCode.ok
    },
}
