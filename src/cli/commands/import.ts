/** `keyfleet import <env> <file.env>`: bring an existing .env into an environment. */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { assertCarriable, writeSecretValues } from '../../sops/index.js'
import type { Command } from '../command.js'
import { parsePlainDotenv } from '../dotenv-file.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, openRepo, sopsOptions } from '../repo-context.js'
import { canonicalName, checkValue, secretsTarget } from '../secret-target.js'

export const command: Command = {
    name: 'import',
    summary: 'Import an existing .env file into an environment (order kept)',
    usage: 'import <env> <file.env> [--allow-unknown] [--force] [--remove-source] [--identity-file FILE]',
    positionals: [2, 2],
    help: `Every name is checked against the catalog (aliases become canonical names) and every
value against its provider's format rule before anything is written; one bad line
stops the import with nothing changed. Values go to sops on stdin: no plaintext copy
is written anywhere. A new environment file is created in the .env's order; an existing
one gets each key set in place (its other keys keep their ciphertext).
--remove-source deletes the plaintext .env only after plain sops decrypt of the written
file gave back every value (see docs/authoring.md, "What goes in comes out").

Example:
  keyfleet import dev .env --remove-source`,
    options: {
        'allow-unknown': { type: 'boolean', description: 'Accept names the catalog does not know' },
        force: { type: 'boolean', description: 'Accept values failing format rules or looking like placeholders' },
        'remove-source': { type: 'boolean', description: 'Delete the plaintext .env after a successful import' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env, source] = positionals as [string, string]
        const repo = openRepo(ctx)
        const target = secretsTarget(repo, env)
        const sourcePath = resolve(ctx.cwd, source)
        if (!existsSync(sourcePath)) throw new KeyfleetError('IMPORT_NOT_FOUND', `${source} does not exist`)
        const parsed = parsePlainDotenv(readFileSync(sourcePath), source)
        if (parsed.size === 0) throw new KeyfleetError('IMPORT_EMPTY', `${source} holds no NAME=value lines; nothing to import`)
        const entries = new Map<string, string>()
        for (const [rawName, value] of parsed) {
            const { name, note } = canonicalName(repo, rawName, values['allow-unknown'] === true, env)
            if (note) ctx.stderr.write(`note: ${note}\n`)
            if (entries.has(name)) throw new KeyfleetError('IMPORT_DUPLICATE', `${source} sets ${name} twice (directly and through an alias); keep one`)
            if (value === '') throw new KeyfleetError('VALUE_EMPTY', `${source}: ${name} has an empty value; remove the line or fill it in (nothing was changed)`)
            checkValue(repo, name, value, values.force === true)
            assertCarriable(name, value)
            entries.set(name, value)
        }
        const options = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
        const progress = ctx.stderr.isTTY === true
        // Checked with plain `sops decrypt` before the file is replaced; the source is removed only after that.
        await writeSecretValues(repo.root, target.paths.secrets, entries, options, progress
            ? (name, done) => { ctx.stderr.write(`\r  ${done}/${entries.size} ${name.padEnd(30)}`) }
            : undefined)
        if (progress && target.exists) ctx.stderr.write('\n')
        ctx.stdout.write(`imported ${entries.size} key${entries.size === 1 ? '' : 's'} into ${target.paths.secrets}: ${[...entries.keys()].join(', ')}\n`)
        if (values['remove-source'] === true) {
            rmSync(sourcePath)
            ctx.stderr.write(`removed the plaintext ${source}\n`)
        } else {
            ctx.stderr.write(`the plaintext ${source} is still there: delete it once you have checked the import (or rerun with --remove-source)\n`)
        }
        return ExitCode.ok
    },
}
