/** `keyfleet edit <env>`: open an environment in $EDITOR through sops. */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { createInterface } from 'node:readline'
import { KeyfleetError } from '../../errors.js'
import { changeViaTempCopy } from '../../repo/atomic.js'
import { sopsEdit, type EditOutcome } from '../../sops/index.js'
import type { CliContext, Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, openRepo, sopsOptions } from '../repo-context.js'
import { existingSecrets } from '../secret-target.js'
import { dotenvNames, guardRemoval } from '../removal-guard.js'

/**
 * One answer from the terminal; an empty answer or end of input is `d` (discard, the safe choice).
 * The reader exists only while asking: one open on stdin during the editor would steal its keystrokes.
 */
const ask = async (ctx: CliContext, question: string): Promise<string> => {
    ctx.stderr.write(question)
    const reader = createInterface({ input: ctx.stdin, terminal: false })
    try {
        const next = await reader[Symbol.asyncIterator]().next()
        return next.done === true ? 'd' : (String(next.value).trim().toLowerCase()[0] ?? 'd')
    } finally {
        reader.close()
    }
}

export const command: Command = {
    name: 'edit',
    summary: 'Edit an environment in $EDITOR (sops decrypts to a private temp file and re-encrypts)',
    usage: 'edit <env> [--force] [--identity-file FILE]',
    positionals: [1, 1],
    help: `sops writes the plaintext to a temporary file readable only by you, starts $EDITOR
(or $VISUAL, else vi) on it, re-encrypts on save and removes it. Unchanged values keep
their ciphertext. Prefer \`keyfleet set\` for one key: it checks names and formats.
In the editor every \\n is a newline (sops's dotenv text); a stored value holding a
literal backslash-n (C:\\new\\logs) whose line you leave alone is kept exactly.
An edit that removes a key an agent reads, or one the catalog requires here, is not
saved (the agents are named): on a terminal you may edit again, save it anyway or
discard it; otherwise it is discarded and --force saves it. Run \`keyfleet validate\` afterwards.

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
        let outcome: EditOutcome = { restored: [], newlines: [] }
        const options = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
        const terminal = ctx.stdin.isTTY === true
        let rounds = 0
        try {
            await changeViaTempCopy(target.file, async (temp) => {
                // The temp copy holds the edit, encrypted: editing again reopens it, and no plaintext leaves sops's private temp dir.
                for (;;) {
                    try {
                        const round = await sopsEdit(relative(repo.root, temp), editor, options)
                        outcome = { restored: [...new Set([...outcome.restored, ...round.restored])], newlines: [...new Set([...outcome.newlines, ...round.newlines])] }
                    } catch (error) {
                        // Edited again but saved nothing new: the previous round's edit stands, and is checked again.
                        if (!(rounds > 0 && error instanceof KeyfleetError && error.code === 'SOPS_NOT_MODIFIED')) throw error
                    }
                    rounds++
                    // Names are in clear in the re-encrypted copy: a guarded key gone means the copy is discarded.
                    const after = new Set(dotenvNames(readFileSync(temp, 'utf8')))
                    const removed = before.filter((n) => !after.has(n))
                    try {
                        warnings = guardRemoval(repo, env, removed, values.force === true)
                        return
                    } catch (error) {
                        if (!(error instanceof KeyfleetError) || error.code !== 'REMOVE_GUARDED') throw error
                        if (!terminal) throw new KeyfleetError('REMOVE_GUARDED', `${error.message}: \`keyfleet edit ${env} --force\` (your edit was discarded; on a terminal keyfleet offers to edit again)`)
                        ctx.stderr.write(`${error.message.split('\nRemove the key')[0]}\n`)
                        const answer = await ask(ctx, '[e]dit again (your edit is kept), [s]ave with these removals, or [d]iscard the edit? [d] ')
                        if (answer === 's') { warnings = guardRemoval(repo, env, removed, true); return }
                        if (answer !== 'e') throw new KeyfleetError('REMOVE_GUARDED', `your edit of ${env} was discarded, nothing was changed`)
                    }
                }
            })
        } catch (error) {
            if (error instanceof KeyfleetError && error.code === 'SOPS_NOT_MODIFIED') {
                ctx.stderr.write('no changes\n')
                return ExitCode.ok
            }
            throw error
        }
        for (const line of warnings) ctx.stderr.write(`${line}\n`)
        if (outcome.restored.length > 0) {
            ctx.stderr.write(`kept ${outcome.restored.join(', ')} exactly: you left the line alone, but sops's editor reads the literal backslash-n in it as a newline (its dotenv text has no escape for a backslash); change such a value with \`keyfleet set ${env} NAME\`\n`)
        }
        if (outcome.newlines.length > 0) {
            ctx.stderr.write(`note: ${outcome.newlines.join(', ')} now span several lines: in sops's editor every \\n is a newline. If you meant a literal backslash-n, set it again with \`keyfleet set ${env} NAME\` (the value on stdin)\n`)
        }
        ctx.stdout.write(`saved ${target.paths.secrets}; run \`keyfleet validate\` and review \`git diff\`\n`)
        return ExitCode.ok
    },
}
