/** `keyfleet ls [<env>]`: names per environment, read from the encrypted files without any key. */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseSopsFile } from '../../sops/native/parse.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { openRepo, type RepoContext } from '../repo-context.js'
import { secretsTarget } from '../secret-target.js'
import { renderTable } from '../table.js'

/** One row of the listing. */
interface Row {
    readonly env: string
    readonly name: string
    readonly provider: string
    readonly status: 'present' | 'missing'
    readonly required: boolean
}

const listEnv = (repo: RepoContext, env: string): Row[] => {
    const target = secretsTarget(repo, env)
    const names = target.exists
        ? parseSopsFile(readFileSync(target.file, 'utf8'), { store: 'dotenv', file: target.paths.secrets }).leaves
            .filter((leaf) => leaf.path.length === 1).map((leaf) => leaf.path[0] as string)
        : []
    const required = repo.catalog.secrets.filter((s) => s.requiredIn.includes(env)).map((s) => s.name)
    const rows: Row[] = names.map((name) => ({
        env, name, provider: repo.index.resolve(name)?.spec.service ?? 'unknown', status: 'present', required: required.includes(name),
    }))
    for (const name of required) {
        if (!names.includes(name)) rows.push({ env, name, provider: repo.index.resolve(name)?.spec.service ?? 'unknown', status: 'missing', required: true })
    }
    return rows
}

export const command: Command = {
    name: 'ls',
    summary: 'List key names per environment (no key needed)',
    usage: 'ls [<env>] [--json]',
    positionals: [0, 1],
    help: `Reads names from the encrypted files only, so it works without any identity. Shows the
provider of each name and flags names the catalog requires in that environment but
the file lacks.

Examples:
  keyfleet ls
  keyfleet ls prod --json`,
    options: {
        json: { type: 'boolean', description: 'Print JSON: [{ env, name, provider, status, required }]' },
    },
    run: async ({ positionals, values }, ctx) => {
        const repo = openRepo(ctx)
        const envs = positionals[0] !== undefined
            ? [positionals[0]]
            : repo.catalog.environments.filter((env) => existsSync(join(repo.root, 'environments', env)))
        const rows = envs.flatMap((env) => listEnv(repo, env))
        if (values.json === true) {
            ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
        } else {
            ctx.stdout.write(renderTable(['ENV', 'NAME', 'PROVIDER', 'STATUS'], rows.map((r) => [r.env, r.name, r.provider, r.status === 'missing' ? 'MISSING (required)' : r.required ? 'ok (required)' : 'ok'])))
        }
        return ExitCode.ok
    },
}
