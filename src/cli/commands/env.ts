/** `keyfleet env add|rm|remove <name>`: grow or shrink the set of environments. */
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { assertRecipient } from '../../age/index.js'
import { KeyfleetError } from '../../errors.js'
import { namesIn } from '../../lifecycle/index.js'
import { removeCatalogEnvironment, removeEnvironmentRule } from '../../lifecycle/environments.js'
import { writeFileAtomic } from '../../repo/atomic.js'
import { CATALOG_PATH, SOPS_CONFIG_PATH, assertEnvironment, environmentPaths } from '../../repo/layout.js'
import type { CliContext, Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { findRepoRoot, openRepo } from '../repo-context.js'
import { ensureEnvironments } from '../scaffold.js'

const add = async (env: string, values: Record<string, unknown>, ctx: CliContext): Promise<number> => {
    environmentPaths(env)
    const root = findRepoRoot(ctx.cwd)
    const admins = ((values.admin as string[] | undefined) ?? [])
    admins.forEach((a) => assertRecipient(a, '--admin'))
    const result = await ensureEnvironments(ctx, root, [env], admins, {
        ...(typeof values['keys-dir'] === 'string' ? { keysDir: values['keys-dir'] } : {}),
        ...(values.print === true ? { print: true } : {}),
    })
    if (result.created.length === 0) {
        ctx.stdout.write(`environment ${env} is complete already; nothing changed\n`)
        return ExitCode.ok
    }
    ctx.stdout.write(`added environment ${env}: ${result.created.join(', ')}\n`)
    ctx.stderr.write(`next: \`keyfleet set ${env} NAME\` for each key, then commit ${SOPS_CONFIG_PATH}, ${CATALOG_PATH} and ${environmentPaths(env).dir}\n`)
    return ExitCode.ok
}

const remove = (env: string, force: boolean, ctx: CliContext): number => {
    const repo = openRepo(ctx)
    const paths = assertEnvironment(repo.root, env, repo.catalog.environments)
    const others = repo.catalog.environments.filter((e) => e !== env)
    if (others.length === 0) throw new KeyfleetError('ENV_LAST', `${env} is the only environment of ${CATALOG_PATH}; a catalog needs one. Add its successor first (\`keyfleet env add NAME\`)`)
    const secrets = join(repo.root, paths.secrets)
    const names = existsSync(secrets) ? namesIn(readFileSync(secrets, 'utf8'), paths.secrets) : []
    const deployment = join(repo.root, paths.deployment)
    const agents = existsSync(deployment) && /^\s*-\s*name:/m.test(readFileSync(deployment, 'utf8'))
    if (!force && (names.length > 0 || agents)) {
        const holds = [...(names.length > 0 ? [`keys (${names.join(', ')})`] : []), ...(agents ? [`agents (${paths.deployment})`] : [])].join(' and ')
        throw new KeyfleetError('ENV_NOT_EMPTY', `environment ${env} still holds ${holds}; remove them first, or pass --force to delete them with the environment`)
    }
    const configPath = join(repo.root, SOPS_CONFIG_PATH)
    const changed: string[] = []
    if (existsSync(configPath)) {
        const before = readFileSync(configPath, 'utf8')
        const after = removeEnvironmentRule(before, env)
        if (after !== before) { writeFileAtomic(configPath, after, 0o644); changed.push(`${SOPS_CONFIG_PATH} (rule)`) }
    }
    const catalogPath = join(repo.root, CATALOG_PATH)
    const { text, requiredBy } = removeCatalogEnvironment(readFileSync(catalogPath, 'utf8'), env)
    writeFileAtomic(catalogPath, text, 0o644)
    changed.push(`${CATALOG_PATH}${requiredBy.length > 0 ? ` (and required_in of ${requiredBy.join(', ')})` : ''}`)
    for (const file of [paths.secrets, paths.deployment]) {
        if (existsSync(join(repo.root, file))) { rmSync(join(repo.root, file)); changed.push(file) }
    }
    if (existsSync(join(repo.root, paths.proposals))) { rmSync(join(repo.root, paths.proposals), { recursive: true }); changed.push(paths.proposals) }
    const dir = join(repo.root, paths.dir)
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir)
    ctx.stdout.write(`removed environment ${env}: ${changed.join(', ')}\n`)
    ctx.stderr.write(`next: commit the removal; delete the GitHub environment ${env} and its SOPS_AGE_KEY secret${names.length > 0 ? `; rotate at their providers the keys it held if they were real (${names.join(', ')})` : ''}\n`)
    return ExitCode.ok
}

export const command: Command = {
    name: 'env',
    summary: 'Add or remove an environment (catalog, .sops.yaml rule, CI identity, files)',
    usage: 'env <add <name> [--keys-dir DIR | --print] [--admin RECIPIENT]... | rm|remove <name> [--force]>',
    positionals: [2, 2],
    help: `add  creates whatever the environment lacks, and nothing else: its entry in
     environments/keyfleet.yaml, a .sops.yaml rule with a new CI identity (plus
     the admins already in .sops.yaml, or --admin), an empty env.secrets written
     by sops and a deployment.yaml with no agents. Running it again changes nothing.
     The new CI identity goes to --keys-dir (0600, outside the repository) or is
     printed once (--print): upload it as the SOPS_AGE_KEY secret of that GitHub
     environment (docs/github-action.md).
rm   removes the environment: its rule, its catalog entry (and required_in
     mentions), env.secrets, deployment.yaml and proposals/. Refuses while it
     holds keys or agents unless --force. \`env remove\` is the same command
     (as \`recipients remove\` and \`recipients rm\` are).

Examples:
  keyfleet env add qa --keys-dir ~/keyfleet-keys
  keyfleet env rm qa`,
    options: {
        'keys-dir': { type: 'string', arg: 'DIR', description: 'add: write the new identities here (mode 0600, outside the repository)' },
        print: { type: 'boolean', description: 'add: print the new identities once instead of writing them' },
        admin: { type: 'string', multiple: true, arg: 'RECIPIENT', description: 'add: admin recipient of the new rule (default: the admins in .sops.yaml)' },
        force: { type: 'boolean', description: 'rm: remove even when the environment holds keys or agents' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [action, env] = positionals as [string, string]
        if (action === 'add') {
            if (values.force !== undefined) throw new KeyfleetError('USAGE', '--force applies to `env rm` only')
            return add(env, values, ctx)
        }
        if (action === 'rm' || action === 'remove') {
            if (values['keys-dir'] !== undefined || values.print !== undefined || values.admin !== undefined) throw new KeyfleetError('USAGE', '--keys-dir, --print and --admin apply to `env add` only')
            return remove(env, values.force === true, ctx)
        }
        throw new KeyfleetError('USAGE', `expected: keyfleet env add <name> or keyfleet env rm|remove <name> (got "${action.slice(0, 20)}")`)
    },
}
