/**
 * `keyfleet recipients ls|add|remove|sync`: who can read each environment. Edits
 * .sops.yaml (comments and order kept) and re-wraps env.secrets; `remove`
 * also replaces the data key and names the keys to rotate at the provider.
 */
import { shortRecipient } from '../../age/index.js'
import { KeyfleetError } from '../../errors.js'
import { addRecipient, environmentsWithRecipient, listRecipients, removeRecipient, syncRecipients } from '../../lifecycle/index.js'
import { assertEnvironment, listEnvironmentDirs } from '../../repo/layout.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, openRepo, sopsOptions } from '../repo-context.js'
import { renderTable } from '../table.js'

export const command: Command = {
    name: 'recipients',
    summary: 'List, add, remove or sync the age recipients of an environment',
    usage: 'recipients <ls [<env>] | add <env> <age1…> | remove|rm <env> <age1…> | sync <env>> [--comment TEXT] [--identity-file FILE] [--full]',
    positionals: [1, 3],
    help: `ls      table of recipients per environment, their role (the .sops.yaml comment)
        and whether env.secrets follows .sops.yaml (key-less)
add     append the recipient to the environment's rule (with --comment as its role,
        e.g. admin or host:alice) and re-wrap the data key for it (sops updatekeys)
remove  drop the recipient, re-wrap, and replace the data key (sops rotate): neither
        its identity nor a data key it kept opens the new file. Prints the keys it
        could read: rotate those at the provider, since it may have copied them.
        \`recipients rm\` is the same command (as \`env rm\` and \`env remove\` are).
sync    make env.secrets follow the rule already in .sops.yaml (after editing it by
        hand; validate's KF103/KF104): sops updatekeys, plus sops rotate when a
        recipient is dropped. Values are unchanged.

add, remove and sync need an identity that opens env.secrets (--identity-file,
SOPS_AGE_KEY_FILE or SOPS_AGE_KEY). On any failure both files stay as they were.

Examples:
  keyfleet recipients ls
  keyfleet recipients add prod age1… --comment admin:bob
  keyfleet recipients remove prod age1…
  keyfleet recipients sync prod`,
    options: {
        comment: { type: 'string', arg: 'TEXT', description: 'add: role comment written after the recipient (e.g. admin, ci:prod)' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
        full: { type: 'boolean', description: 'ls: show full recipients instead of age1abcd…wxyz' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [given, env, recipient] = positionals as [string, string | undefined, string | undefined]
        // One spelling rule for every subcommand group (env, recipients): remove and rm are the same.
        const action = given === 'rm' ? 'remove' : given
        const repo = openRepo(ctx)
        const known = [...new Set([...repo.catalog.environments, ...listEnvironmentDirs(repo.root)])]
        if (action === 'ls') {
            if (recipient !== undefined) throw new KeyfleetError('USAGE', 'expected: keyfleet recipients ls [<env>]')
            const envs = env === undefined ? known : [assertEnvironment(repo.root, env, repo.catalog.environments).env]
            const rows = listRecipients(repo.root, envs)
            const shown = (r: string): string => (values.full === true ? r : shortRecipient(r))
            ctx.stdout.write(renderTable(['ENV', 'RECIPIENT', 'ROLE', 'IN FILE'], rows.map((r) => [r.env, shown(r.recipient), r.role, r.inFile])))
            if (rows.some((r) => r.inFile === 'no' || r.role === '(not in .sops.yaml)')) {
                ctx.stderr.write('note: env.secrets does not follow .sops.yaml everywhere; run `keyfleet recipients sync <env>`\n')
            }
            return ExitCode.ok
        }
        if (action === 'sync') {
            if (env === undefined || recipient !== undefined) throw new KeyfleetError('USAGE', 'expected: keyfleet recipients sync <env>')
            assertEnvironment(repo.root, env, repo.catalog.environments)
            if (values.comment !== undefined) throw new KeyfleetError('USAGE', '--comment applies to `recipients add` only')
            const sops = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
            const result = await syncRecipients({ root: repo.root, env, sops })
            if (!result.fileUpdated) {
                ctx.stdout.write(`${result.file} already follows .sops.yaml; nothing changed\n`)
                return ExitCode.ok
            }
            ctx.stdout.write(`synced ${result.file}: ${result.added.length} added, ${result.removed.length} removed${result.rotated ? '; new data key' : ''}\n`)
            if (result.removed.length > 0) ctx.stderr.write('the removed recipients could read every value: rotate those keys at their providers if they should lose access\n')
            ctx.stderr.write(`next: commit ${result.file}\n`)
            return ExitCode.ok
        }
        if ((action !== 'add' && action !== 'remove') || env === undefined || recipient === undefined) {
            throw new KeyfleetError('USAGE', `expected: keyfleet recipients add|remove|rm <env> <age1…>, ls [<env>] or sync <env> (got "${given.slice(0, 20)}")`)
        }
        assertEnvironment(repo.root, env, repo.catalog.environments)
        const sops = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
        if (action === 'add') {
            const result = await addRecipient({ root: repo.root, env, recipient, sops, ...(typeof values.comment === 'string' ? { comment: values.comment } : {}) })
            ctx.stdout.write(`added ${shortRecipient(recipient)} to ${env}${result.fileUpdated ? ` and re-wrapped ${result.file}` : ' (.sops.yaml only: the environment has no env.secrets yet)'}\n`)
            ctx.stderr.write(`next: commit .sops.yaml${result.fileUpdated ? ` and ${result.file}` : ''}\n`)
            return ExitCode.ok
        }
        if (values.comment !== undefined) throw new KeyfleetError('USAGE', '--comment applies to `recipients add` only')
        const result = await removeRecipient({ root: repo.root, env, recipient, sops })
        ctx.stdout.write(`removed ${shortRecipient(recipient)}${result.removed.comment ? ` (${result.removed.comment})` : ''} from ${env}${result.rotated ? `; ${result.file} has a new data key` : ''}\n`)
        if (result.removed.ci) ctx.stderr.write(`warning: that was the ${env} CI recipient; the deploy job cannot decrypt ${env} until its new CI recipient is added (\`--comment ci:${env}\`)\n`)
        if (result.exposedNames.length > 0) {
            ctx.stdout.write(`it could read: ${result.exposedNames.join(', ')}\nrotate these at their providers, then \`keyfleet set ${env} NAME\` (or \`keyfleet propose\`) each new key\n`)
        }
        const still = environmentsWithRecipient(repo.root, known, recipient)
        if (still.length > 0) ctx.stderr.write(`note: it is still a recipient of ${still.join(', ')}\n`)
        ctx.stderr.write(`next: commit .sops.yaml${result.fileUpdated ? ` and ${result.file}` : ''}\n`)
        return ExitCode.ok
    },
}
