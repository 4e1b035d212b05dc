/**
 * Guarded removals (issue 12, item 8): a key that the catalog requires in an environment
 * (`required_in`) or that an agent of its deployment.yaml reads is not removed without `--force`,
 * and the message names who would lose it. Names only: no value is read here.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { KeyfleetError } from '../errors.js'
import { parseDeployment, storedNameFor } from '../render/index.js'
import { environmentPaths } from '../repo/layout.js'
import type { RepoContext } from './repo-context.js'

/** Key names in a SOPS dotenv file (they are in clear), without sops' metadata lines. */
export const dotenvNames = (text: string): string[] =>
    text.split('\n').map((line) => /^([^#=\s][^=]*)=/.exec(line)?.[1]).filter((n): n is string => n !== undefined && !n.startsWith('sops_'))

/**
 * Who depends on `name` in `env`: the agents reading it and whether the catalog requires it there.
 * An agent reads the stored name that {@link storedNameFor} picks for its region from what the
 * environment stores now: `OPENAI_API_KEY__EU` for an eu agent that has it (removing it would
 * hand that agent the global key under `fallback: global`), the global key only for agents that
 * really get it.
 */
export const dependents = (repo: RepoContext, env: string, name: string): { agents: string[]; required: boolean } => {
    const resolved = repo.index.resolve(name)
    const required = resolved !== undefined && resolved.poolIndex === 1 && resolved.spec.requiredIn.includes(env)
    const file = environmentPaths(env).deployment
    const path = join(repo.root, file)
    if (!existsSync(path)) return { agents: [], required }
    const { deployment } = parseDeployment(readFileSync(path, 'utf8'), file, repo.catalog)
    const secrets = join(repo.root, environmentPaths(env).secrets)
    const stored = new Set(existsSync(secrets) ? dotenvNames(readFileSync(secrets, 'utf8')) : [])
    const has = (n: string): boolean => stored.has(n)
    const fallback = deployment?.fallback ?? 'none'
    const agents = (deployment?.agents ?? [])
        .filter((a) => a.keys.some((k) => storedNameFor(k, a.region, fallback, has) === name))
        .map((a) => a.name)
    return { agents, required }
}

/**
 * Refuses (or, with `force`, reports) the removal of `names` from `env`.
 * @returns warning lines to print when `force` let a guarded removal through.
 * @throws KeyfleetError `REMOVE_GUARDED` naming each key, its agents and the catalog rule.
 */
export const guardRemoval = (repo: RepoContext, env: string, names: readonly string[], force: boolean): string[] => {
    const problems: string[] = []
    for (const name of names) {
        const { agents, required } = dependents(repo, env, name)
        const why = [
            ...(agents.length > 0 ? [`read by ${agents.length === 1 ? 'agent' : 'agents'} ${agents.join(', ')} (${environmentPaths(env).deployment})`] : []),
            ...(required ? [`required in ${env} by the catalog (required_in)`] : []),
        ]
        if (why.length > 0) problems.push(`${name}: ${why.join('; ')}`)
    }
    if (problems.length === 0) return []
    if (!force) {
        throw new KeyfleetError('REMOVE_GUARDED', `refusing to remove from ${env}, nothing was changed:\n${problems.map((p) => `  ${p}`).join('\n')}\nRemove the key from those agents (and the catalog's required_in) first, or pass --force`)
    }
    return problems.map((p) => `warning: removed ${p}`)
}
