/** `keyfleet rotate <env>`: a new data key for env.secrets; no value changes. */
import { rotateDataKey } from '../../lifecycle/index.js'
import { assertEnvironment } from '../../repo/layout.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, openRepo, sopsOptions } from '../repo-context.js'

export const command: Command = {
    name: 'rotate',
    summary: 'Replace the data key of an environment (sops rotate); values stay the same',
    usage: 'rotate <env> [--identity-file FILE]',
    positionals: [1, 1],
    help: `Generates a new data key, re-encrypts every value with it and wraps it for the
current recipients. Do this after someone who could read the environment leaves
(\`keyfleet recipients remove\` does it for you). Every value gets a new ciphertext, so
the key-less pull-request check (\`keyfleet diff\` without an identity) lists every name as
"re-encrypted": it cannot compare values without a key, so it claims neither "changed" nor
"unchanged". The keyed report (the deploy job, or \`keyfleet diff --identity <env>=FILE\`)
compares them: "metadata only" when no value changed, otherwise the changed names with
hints. This does not rotate the provider keys themselves; do that at each provider.

Examples:
  keyfleet rotate prod --identity-file ~/.config/sops/age/keys.txt`,
    options: {
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env] = positionals as [string]
        const repo = openRepo(ctx)
        assertEnvironment(repo.root, env, repo.catalog.environments)
        const file = await rotateDataKey(repo.root, env, sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined)))
        ctx.stdout.write(`rotated the data key of ${file}\n`)
        ctx.stderr.write(`next: commit ${file}. The pull-request check (key-less) lists every name as re-encrypted, values not compared; `
            + `the keyed report (the deploy job, or keyfleet diff --base HEAD --identity ${env}=FILE before committing) shows "metadata only"\n`)
        return ExitCode.ok
    },
}
