/** `keyfleet init`: make a repository yours — new identities, new .sops.yaml, demo keys retired. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { assertRecipient, generateIdentity } from '../../age/index.js'
import { KeyfleetError } from '../../errors.js'
import { changeViaTempCopy, writeFileAtomic } from '../../repo/atomic.js'
import { environmentPaths, SOPS_CONFIG_PATH } from '../../repo/layout.js'
import { renderSopsConfig, type EnvironmentRecipients } from '../../repo/sops-config.js'
import { sopsRotate, sopsUpdateKeys, type SopsIdentity } from '../../sops/index.js'
import { decryptSopsFile } from '../../sops/native/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, identityStrings, openRepo, sopsOptions, type RepoContext } from '../repo-context.js'
import { identityFileText } from './keygen.js'

/** True when `path` is `root` or below it. */
const isInside = (root: string, path: string): boolean => {
    const rel = relative(root, path)
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * --replace-demo rewrites .sops.yaml and re-keys file after file: check first,
 * natively, that the identity opens every one, so a wrong identity changes nothing.
 * @throws KeyfleetError `IDENTITY_MISSING`, or the decryption error naming the file it cannot open.
 */
const assertOpensAll = async (repo: RepoContext, identity: SopsIdentity): Promise<void> => {
    const identities = identityStrings(identity)
    if (identities.length === 0) throw new KeyfleetError('IDENTITY_MISSING', '--replace-demo needs an identity that opens every environment today: --identity-file FILE (for the demo: examples/demo-keys/admin.agekey)')
    for (const env of repo.catalog.environments) {
        const file = environmentPaths(env).secrets
        if (!existsSync(join(repo.root, file))) continue
        await decryptSopsFile(readFileSync(join(repo.root, file), 'utf8'), { store: 'dotenv', identities, file })
    }
}

export const command: Command = {
    name: 'init',
    summary: 'Make a repository yours: one new age identity per environment and a new .sops.yaml',
    usage: 'init [--keys-dir DIR | --print] [--admin RECIPIENT]... [--replace-demo]',
    positionals: [0, 0],
    help: `Generates one CI identity per environment of the catalog and rewrites .sops.yaml so
each environment is encrypted to its CI recipient plus the admin recipients you give
(--admin, repeatable; without it an admin identity is generated too).
Identities are written with mode 0600 to --keys-dir (keep it out of git), or printed
once with --print. Upload each CI identity as the secret SOPS_AGE_KEY of the matching
GitHub environment (docs/github-action.md).

--replace-demo re-keys the existing env.secrets files: updatekeys (to the new recipients)
then rotate (a new data key), so the published demo identities can no longer open them.
It needs an identity that opens them today (default: SOPS_AGE_KEY_FILE; for the demo,
examples/demo-keys/admin.agekey). Replace the demo key VALUES too: they are public.

Example:
  keyfleet init --keys-dir ~/keyfleet-keys --admin age1yourkey… --replace-demo \\
      --identity-file examples/demo-keys/admin.agekey`,
    options: {
        'keys-dir': { type: 'string', arg: 'DIR', description: 'Write new identities here (mode 0600, must not exist in git)' },
        print: { type: 'boolean', description: 'Print the new identities once instead of writing them' },
        admin: { type: 'string', multiple: true, arg: 'RECIPIENT', description: 'Admin recipient on every environment (repeatable)' },
        'replace-demo': { type: 'boolean', description: 'Re-key existing env.secrets (updatekeys + rotate)' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'Identity that opens the current files (for --replace-demo)' },
    },
    run: async ({ values }, ctx) => {
        const repo = openRepo(ctx)
        const keysDir = values['keys-dir'] as string | undefined
        if (!keysDir && values.print !== true) throw new KeyfleetError('USAGE', 'say where the new identities go: --keys-dir DIR (written 0600) or --print (shown once)')
        if (keysDir && isInside(repo.root, resolve(ctx.cwd, keysDir))) {
            throw new KeyfleetError('USAGE', `--keys-dir ${keysDir} is inside the repository: private keys must never be one \`git add\` away from a commit. Choose a directory outside it, e.g. ~/keyfleet-keys`)
        }
        if (values['replace-demo'] === true) await assertOpensAll(repo, identityFrom(ctx, values['identity-file'] as string | undefined))
        const admins = ((values.admin as string[] | undefined) ?? [])
        admins.forEach((a) => assertRecipient(a, '--admin'))
        const secretsOut: { label: string; identity: string; recipient: string }[] = []
        if (admins.length === 0) {
            const admin = await generateIdentity()
            secretsOut.push({ label: 'admin', ...admin })
            admins.push(admin.recipient)
        }
        const rules: EnvironmentRecipients[] = []
        for (const env of repo.catalog.environments) {
            const ci = await generateIdentity()
            secretsOut.push({ label: env, ...ci })
            rules.push({ env, ci: ci.recipient, admins })
        }
        if (keysDir) {
            const dir = resolve(ctx.cwd, keysDir)
            mkdirSync(dir, { recursive: true, mode: 0o700 })
            for (const s of secretsOut) {
                if (existsSync(join(dir, `${s.label}.agekey`))) throw new KeyfleetError('FILE_EXISTS', `${join(keysDir, `${s.label}.agekey`)} exists; choose an empty --keys-dir`)
            }
            for (const s of secretsOut) writeFileAtomic(join(dir, `${s.label}.agekey`), identityFileText(s.identity, s.recipient, `keyfleet identity: ${s.label === 'admin' ? 'admin' : `CI of ${s.label}`}`), 0o600)
            ctx.stderr.write(`wrote ${secretsOut.length} identities to ${keysDir} (mode 0600)\n`)
        } else {
            ctx.stderr.write('# new identities, shown once; store each where it belongs:\n')
            for (const s of secretsOut) ctx.stdout.write(`# ${s.label}: ${s.recipient}\n${s.identity}\n`)
        }
        const configPath = join(repo.root, SOPS_CONFIG_PATH)
        if (values['replace-demo'] === true) {
            // updatekeys reads the new rules; the old identity opens the file, the new ones let rotate re-open it.
            writeFileAtomic(configPath, renderSopsConfig(rules), 0o644)
            const old = identityFrom(ctx, values['identity-file'] as string | undefined)
            const all = [old.ageKey ?? '', ...secretsOut.map((s) => s.identity)].filter(Boolean).join('\n')
            const options = sopsOptions(ctx, repo.root, { ageKey: all, ...(old.ageKeyFile ? { ageKeyFile: old.ageKeyFile } : {}) })
            for (const env of repo.catalog.environments) {
                const file = join(repo.root, environmentPaths(env).secrets)
                if (!existsSync(file)) continue
                await changeViaTempCopy(file, async (temp) => {
                    await sopsUpdateKeys(relative(repo.root, temp), options)
                    await sopsRotate(relative(repo.root, temp), options)
                })
                ctx.stderr.write(`re-keyed ${environmentPaths(env).secrets}\n`)
            }
        } else {
            writeFileAtomic(configPath, renderSopsConfig(rules), 0o644)
        }
        ctx.stdout.write(`rewrote ${SOPS_CONFIG_PATH}: ${rules.map((r) => r.env).join(', ')}${values['replace-demo'] === true ? '; existing files re-keyed' : ''}\n`)
        return ExitCode.ok
    },
}
