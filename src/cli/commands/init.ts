/**
 * `keyfleet init`: start keyfleet in any git repository (new or existing) or,
 * with --replace-demo, retire the demo's published identities everywhere.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { assertRecipient, generateIdentity } from '../../age/index.js'
import { parseCatalog } from '../../catalog/index.js'
import { KeyfleetError } from '../../errors.js'
import { namesIn } from '../../lifecycle/index.js'
import { encryptEmptySecrets, removeDemoAgents } from '../../lifecycle/environments.js'
import { changeViaTempCopy, writeFileAtomic } from '../../repo/atomic.js'
import { isDemoRepository } from '../../repo/demo.js'
import { CATALOG_PATH, environmentPaths, listEnvironmentDirs, SOPS_CONFIG_PATH } from '../../repo/layout.js'
import { renderSopsConfig, type EnvironmentRecipients } from '../../repo/sops-config.js'
import { sopsRotate, sopsUpdateKeys, type SopsIdentity } from '../../sops/index.js'
import { decryptSopsFile } from '../../sops/native/decrypt.js'
import type { CliContext, Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { findRepoRoot, identityFrom, identityStrings, sopsOptions } from '../repo-context.js'
import { checkDestination, deliverIdentities, ensureEnvironments, type IdentityDestination, type NewIdentity } from '../scaffold.js'

const DEFAULT_ENVS = ['dev', 'stage', 'prod']

/**
 * Where init works: the keyfleet repository around `cwd` if there is one, else the
 * enclosing git work tree (a fresh `git init` has no commits, so `.git` is looked
 * for, not `git rev-parse`). Either way it must be inside a git work tree.
 * @throws KeyfleetError `NOT_A_GIT_REPO`.
 */
const initRoot = (cwd: string): string => {
    let root: string | undefined
    try {
        root = findRepoRoot(cwd)
    } catch (error) {
        if (!(error instanceof KeyfleetError && error.code === 'REPO_NOT_FOUND')) throw error
    }
    for (let dir = root ?? resolve(cwd); ; dir = dirname(dir)) {
        if (existsSync(join(dir, '.git'))) return root ?? dir
        if (dirname(dir) === dir) break
    }
    // keyfleet keeps its history, reviews and deploys in git: files made outside one would be made in the wrong place.
    throw new KeyfleetError('NOT_A_GIT_REPO', `${root ?? resolve(cwd)} is not inside a git repository, and keyfleet keeps environments in git (reviewed in pull requests, deployed from CI); run \`git init\` there first (or cd into your repository), then \`keyfleet init\` again; nothing was created`)
}

/** The catalog's environments when it exists and parses, else undefined. */
const catalogEnvironments = (root: string): readonly string[] | undefined => {
    const path = join(root, CATALOG_PATH)
    if (!existsSync(path)) return undefined
    return parseCatalog(readFileSync(path, 'utf8'), CATALOG_PATH).catalog?.environments
}

/**
 * With --keep-values the files are re-keyed: check first, natively, that the
 * identity opens every one, so a wrong identity changes nothing.
 * @throws KeyfleetError `IDENTITY_MISSING`, or the decryption error naming the file it cannot open.
 */
const assertOpensAll = async (root: string, envs: readonly string[], identity: SopsIdentity): Promise<void> => {
    const identities = identityStrings(identity)
    if (identities.length === 0) throw new KeyfleetError('IDENTITY_MISSING', '--keep-values needs an identity that opens every environment today: --identity-file FILE (for the demo: examples/demo-keys/admin.agekey)')
    for (const env of envs) {
        const file = environmentPaths(env).secrets
        if (!existsSync(join(root, file))) continue
        await decryptSopsFile(readFileSync(join(root, file), 'utf8'), { store: 'dotenv', identities, file })
    }
}

/** --replace-demo: new identities everywhere, demo agents, values and proposals gone (or values re-keyed with --keep-values). */
const replaceDemo = async (ctx: CliContext, root: string, envs: readonly string[], admins: string[], dest: IdentityDestination, keepValues: boolean, identityFile: string | undefined): Promise<void> => {
    checkDestination(ctx, root, dest, [...(admins.length === 0 ? ['admin'] : []), ...envs])
    const old = keepValues ? identityFrom(ctx, identityFile) : {}
    if (keepValues) await assertOpensAll(root, envs, old)
    const fresh: NewIdentity[] = []
    if (admins.length === 0) {
        const admin = await generateIdentity()
        fresh.push({ label: 'admin', ...admin })
        admins.push(admin.recipient)
    }
    const rules: EnvironmentRecipients[] = []
    for (const env of envs) {
        const ci = await generateIdentity()
        fresh.push({ label: env, ...ci })
        rules.push({ env, ci: ci.recipient, admins })
    }
    deliverIdentities(ctx, dest, fresh)
    writeFileAtomic(join(root, SOPS_CONFIG_PATH), renderSopsConfig(rules), 0o644)
    ctx.stdout.write(`rewrote ${SOPS_CONFIG_PATH}: ${envs.join(', ')}\n`)
    const rekey = keepValues
        ? sopsOptions(ctx, root, { ageKey: [old.ageKey ?? '', ...fresh.map((s) => s.identity)].filter(Boolean).join('\n'), ...(old.ageKeyFile ? { ageKeyFile: old.ageKeyFile } : {}) })
        : undefined
    for (const env of envs) {
        const paths = environmentPaths(env)
        const deployment = join(root, paths.deployment)
        if (existsSync(deployment)) {
            const { text, removed } = removeDemoAgents(readFileSync(deployment, 'utf8'), paths.deployment)
            if (removed.length > 0) {
                writeFileAtomic(deployment, text, 0o644)
                ctx.stdout.write(`removed demo agents from ${paths.deployment}: ${removed.join(', ')}\n`)
            }
        }
        const proposals = join(root, paths.proposals)
        if (existsSync(proposals) && statSync(proposals).isDirectory()) {
            // Sealed to the demo CI recipient: public, and the new CI identity cannot fold them anyway.
            const sealed = readdirSync(proposals).filter((f) => f.endsWith('.age'))
            for (const f of sealed) rmSync(join(proposals, f))
            if (sealed.length > 0) ctx.stdout.write(`removed ${sealed.length} demo proposals from ${paths.proposals}\n`)
        }
        const secrets = join(root, paths.secrets)
        if (!existsSync(secrets)) continue
        if (rekey) {
            await changeViaTempCopy(secrets, async (temp) => {
                await sopsUpdateKeys(relative(root, temp), rekey)
                await sopsRotate(relative(root, temp), rekey)
            })
            ctx.stdout.write(`re-keyed ${paths.secrets} (values kept: the published identities could read them, so replace any that matter)\n`)
        } else {
            const names = namesIn(readFileSync(secrets, 'utf8'), paths.secrets)
            writeFileAtomic(secrets, await encryptEmptySecrets(env, sopsOptions(ctx, root, {})), 0o644)
            ctx.stdout.write(`emptied ${paths.secrets}${names.length > 0 ? `: its demo values are public (${names.join(', ')}); set your own with \`keyfleet set ${env} NAME\`` : ''}\n`)
        }
    }
}

export const command: Command = {
    name: 'init',
    summary: 'Start keyfleet in a git repository (or retire the demo identities with --replace-demo)',
    usage: 'init [--env NAME]... [--keys-dir DIR | --print] [--admin RECIPIENT]... [--replace-demo [--keep-values --identity-file FILE]]',
    positionals: [0, 0],
    help: `Works in any git repository, new (\`git init\`, no commits) or an existing application.
Creates whatever is missing, and nothing that exists: .sops.yaml (one creation rule per
environment: a new CI identity, then the admins), the catalog environments/keyfleet.yaml
(the built-in providers, nothing required), and per environment an empty env.secrets
(written by sops) and a deployment.yaml with no agents. --env picks the environments
(repeatable; default: the catalog's, else dev, stage, prod). Running init again changes
nothing; add environments later with \`keyfleet env add NAME\`.

New identities are written with mode 0600 to --keys-dir (outside the repository), or
printed once with --print; they are only needed when a rule is created. Without --admin
an admin identity is generated. Upload each CI identity as the secret SOPS_AGE_KEY of the
matching GitHub environment (docs/github-action.md).

--replace-demo retires the published demo identities (examples/demo-keys/): new
identities for every environment and a new .sops.yaml; every demo agent (a bundle sealed
to a demo recipient, e.g. alice-laptop) leaves deployment.yaml; demo proposals are
deleted; every env.secrets is emptied, since the published identities could read all of
its values. --keep-values re-keys the files instead (updatekeys + rotate), which needs
--identity-file to open them today.

Examples:
  keyfleet init --keys-dir ~/keyfleet-keys
  keyfleet init --env dev --env prod --print
  keyfleet init --replace-demo --keys-dir ~/keyfleet-keys --admin age1yourkey…`,
    options: {
        env: { type: 'string', multiple: true, arg: 'NAME', description: 'Environment to create (repeatable; default: the catalog\'s, else dev, stage, prod)' },
        'keys-dir': { type: 'string', arg: 'DIR', description: 'Write new identities here (mode 0600, outside the repository)' },
        print: { type: 'boolean', description: 'Print the new identities once instead of writing them' },
        admin: { type: 'string', multiple: true, arg: 'RECIPIENT', description: 'Admin recipient on every new rule (repeatable)' },
        'replace-demo': { type: 'boolean', description: 'Replace every demo identity, agent and value' },
        'keep-values': { type: 'boolean', description: 'With --replace-demo: re-key the values instead of emptying the files' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'Identity that opens the current files (for --keep-values)' },
    },
    run: async ({ values }, ctx) => {
        const root = initRoot(ctx.cwd)
        const admins = ((values.admin as string[] | undefined) ?? [])
        admins.forEach((a) => assertRecipient(a, '--admin'))
        const dest: IdentityDestination = {
            ...(typeof values['keys-dir'] === 'string' ? { keysDir: values['keys-dir'] } : {}),
            ...(values.print === true ? { print: true } : {}),
        }
        const given = values.env as string[] | undefined
        given?.forEach((env) => environmentPaths(env))
        if (values['keep-values'] === true && values['replace-demo'] !== true) throw new KeyfleetError('USAGE', '--keep-values applies to --replace-demo only')
        if (values['identity-file'] !== undefined && values['keep-values'] !== true) throw new KeyfleetError('USAGE', '--identity-file is for --replace-demo --keep-values (re-keying needs the old identity)')
        if (values['replace-demo'] === true) {
            const envs = [...new Set([...(catalogEnvironments(root) ?? []), ...listEnvironmentDirs(root), ...(given ?? [])])]
            await replaceDemo(ctx, root, envs, [...admins], dest, values['keep-values'] === true, values['identity-file'] as string | undefined)
            ctx.stderr.write('next: `keyfleet validate --all`, then commit; the demo identities open nothing here any more\n')
            return ExitCode.ok
        }
        const envs = given ?? catalogEnvironments(root) ?? DEFAULT_ENVS
        const result = await ensureEnvironments(ctx, root, envs, admins, dest)
        if (result.created.length === 0) ctx.stdout.write(`keyfleet is set up here already (${envs.join(', ')}); nothing changed\n`)
        else ctx.stdout.write(`${result.created.join(', ')}\n`)
        if (isDemoRepository(root)) ctx.stderr.write('warning: this is the demo repository: its recipients are published identities; run `keyfleet init --replace-demo --keys-dir DIR` before storing any real key\n')
        else if (result.created.length > 0) ctx.stderr.write(`next: \`keyfleet set ${envs[0] ?? 'dev'} NAME\` for each key, then \`keyfleet validate --all\` and commit\n`)
        return ExitCode.ok
    },
}
