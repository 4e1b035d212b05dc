/**
 * `keyfleet rotate-key <env> <NAME>`: the guided overlap rotation of one
 * provider key (src/lifecycle/rotate-key.ts). Each run does the next step the
 * repository and the cluster allow, and says what to do before running again.
 */
import { execa } from 'execa'
import { readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { formatHint, keyHint } from '../../catalog/index.js'
import { KeyfleetError } from '../../errors.js'
import { parseDuration } from '../../lifecycle/rollout.js'
import { ADMIN_REVOKE, CONSOLE_LINKS, revokeByAdminApi } from '../../lifecycle/rotate-key-revoke.js'
import { addToDeployment, dotenvNames, poolMembers, readersOf, removeFromDeployment, rotationStep, type RotationFacts } from '../../lifecycle/rotate-key.js'
import { changeViaTempCopy, writeFileAtomic } from '../../repo/atomic.js'
import { environmentPaths } from '../../repo/layout.js'
import { parseDeployment } from '../../render/index.js'
import { sopsUnset, writeSecretValues } from '../../sops/index.js'
import { showFile } from '../../validate/git.js'
import type { CliContext, Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { decryptNative, identityFrom, nativeIdentities, openRepo, sopsOptions, type RepoContext } from '../repo-context.js'
import { readSecretValue } from '../secret-input.js'
import { canonicalName, checkValue } from '../secret-target.js'
import { lastRender, printRollout, rolloutOf } from './rollout.js'

type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>

const membersAt = async (repo: RepoContext, ref: string, file: string, base: string): Promise<string[] | undefined> => {
    const buf = await showFile(repo.root, ref, file)
    return buf && poolMembers(dotenvNames(buf.toString('utf8')), base, repo.index)
}

/** The last removal of pool members: uncommitted (HEAD has more), else the newest commit that changed the membership, if it removed some. */
const lastRemoval = async (repo: RepoContext, file: string, base: string, now: readonly string[]): Promise<RotationFacts['lastRemoval']> => {
    const head = await membersAt(repo, 'HEAD', file, base).catch(() => undefined)
    if (head && head.some((m) => !now.includes(m))) return { removed: head.filter((m) => !now.includes(m)), from: 'HEAD' }
    const log = await execa('git', ['log', '-n', '100', '--format=%H', '--', file], { cwd: repo.root, reject: false, verbose: 'none' })
    for (const commit of String(log.stdout).split('\n').filter(Boolean)) {
        const at = await membersAt(repo, commit, file, base)
        const before = await membersAt(repo, `${commit}^`, file, base).catch(() => undefined)
        if (!at || !before || (at.length === before.length && at.every((m) => before.includes(m)))) continue
        const removed = before.filter((m) => !at.includes(m))
        return removed.length > 0 && at.length > 0 ? { removed, from: `${commit}^` } : undefined
    }
    return undefined
}

const next = (ctx: CliContext, env: string, name: string, what: string): void => {
    ctx.stderr.write(`next: ${what}, then run \`keyfleet rotate-key ${env} ${name}\` again\n`)
}

/** Waits for (or reads once) the rollout of the agents reading `members`; prints it when incomplete. */
const confirmed = async (ctx: CliContext, repo: RepoContext, env: string, members: readonly string[], values: Values): Promise<boolean> => {
    const last = await lastRender(ctx, repo.root, env, ([] as unknown[]).concat(values['identity-file'] ?? []).map(String))
    if (!last) throw new KeyfleetError('ROTATE_DEPLOYMENT_INVALID', `environments/${env}/deployment.yaml has errors (printed above); fix them first`)
    const readers = readersOf(last.deployment, members)
    const deployment = { ...last.deployment, agents: last.deployment.agents.filter((a) => readers.has(a.name)) }
    const waitMs = values.wait === true ? parseDuration(typeof values.timeout === 'string' ? values.timeout : '10m', '--timeout') : undefined
    const report = await rolloutOf(ctx, env, deployment, last.generation, waitMs)
    if (!report.complete) printRollout(ctx, report, 'table')
    return report.complete
}

export const command: Command = {
    name: 'rotate-key',
    summary: 'Rotate one provider key with overlap: add the new key, confirm every agent, remove the old, then revoke',
    usage: 'rotate-key <env> <NAME> [--new] [--wait] [--timeout 10m] [--identity-file FILE] [--admin-key-file FILE] [--openai-project ID]',
    help: `Rotates one provider key so that no agent fails a call. Run it again after each deploy;
every run does the next step that the repository and the cluster allow (no local state):
  a. --new: the new value (stdin or a hidden prompt) goes in as the next pool member
     (OPENAI_API_KEY_2 beside OPENAI_API_KEY; always one above every member, so a loader
     opened with preferNewest uses it first) and every agent reading the key gets it in
     deployment.yaml. Commit, merge, let the deploy run.
  b. once rollout status confirms every agent reading the key serves that render, the
     old member leaves deployment.yaml and env.secrets. Commit, merge, deploy again.
  c. once every agent is confirmed again, prints how to revoke the old key and the
     provider's console link; with --admin-key-file revokes it through the admin API
     (OpenAI project API keys with --openai-project, Anthropic's Admin API).
Killed at any point, the next run continues where it stopped. --wait waits for the
confirmation (as rollout status --wait). Exit: 0 step done, 1 waiting for a deploy or
for agents, 2 usage, 3 cannot decrypt.

Examples:
  pbpaste | keyfleet rotate-key prod OPENAI_API_KEY --new
  keyfleet rotate-key prod OPENAI_API_KEY --wait --timeout 15m
  keyfleet rotate-key prod ANTHROPIC_API_KEY --admin-key-file ~/.anthropic-admin-key`,
    options: {
        new: { type: 'boolean', description: 'begin a rotation: read the new value (stdin or hidden prompt)' },
        wait: { type: 'boolean', description: 'wait for every agent to confirm (as rollout status --wait)' },
        timeout: { type: 'string', arg: 'DURATION', description: 'how long --wait waits (default 10m)' },
        force: { type: 'boolean', description: 'store a value that fails the provider format rule' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
        'admin-key-file': { type: 'string', arg: 'FILE', description: 'file holding the provider admin key: revoke the old key through the admin API' },
        'openai-project': { type: 'string', arg: 'ID', description: 'OpenAI project of the key (proj_…), for the admin API' },
        'admin-base-url': { type: 'string', arg: 'URL', description: 'admin API base URL (a gateway, or a test fake)' },
    },
    positionals: [2, 2],
    run: async ({ positionals, values }, ctx) => {
        const [env, rawName] = positionals as [string, string]
        const repo = openRepo(ctx)
        const resolved = repo.index.resolve(canonicalName(repo, rawName, false).name)
        if (!resolved) throw new KeyfleetError('ROTATE_NO_KEY', `${rawName} is not a catalog key; rotate-key rotates catalog keys`)
        const base = resolved.spec.name
        const paths = environmentPaths(env)
        const secretsPath = join(repo.root, paths.secrets)
        const deploymentPath = join(repo.root, paths.deployment)
        const readText = (path: string): string => { try { return readFileSync(path, 'utf8') } catch { throw new KeyfleetError('ROTATE_NO_KEY', `cannot read ${relative(repo.root, path)}: is ${env} an environment of this repository?`) } }
        const members = poolMembers(dotenvNames(readText(secretsPath)), base, repo.index)
        const deploymentText = readText(deploymentPath)
        const parsed = parseDeployment(deploymentText, paths.deployment, repo.catalog)
        if (!parsed.deployment) throw new KeyfleetError('ROTATE_DEPLOYMENT_INVALID', `${paths.deployment} has errors; run keyfleet validate and fix them first`, { file: paths.deployment })
        const step = rotationStep({ base, members, lastRemoval: await lastRemoval(repo, paths.secrets, base, members), deployment: parsed.deployment, begin: values.new === true, index: repo.index })
        const sops = sopsOptions(ctx, repo.root, identityFrom(ctx, values['identity-file'] as string | undefined))
        const writeDeployment = (text: string): void => {
            if (!parseDeployment(text, paths.deployment, repo.catalog).deployment) throw new KeyfleetError('ROTATE_DEPLOYMENT_INVALID', `editing ${paths.deployment} would make it invalid; nothing was changed there`)
            writeFileAtomic(deploymentPath, text, 0o644)
        }
        const removeOld = async (old: readonly string[]): Promise<void> => {
            await changeViaTempCopy(secretsPath, async (temp) => { for (const name of old) await sopsUnset(relative(repo.root, temp), name, sops) })
        }
        switch (step.step) {
            case 'idle':
                ctx.stdout.write(`no rotation of ${base} in ${env} is in progress (${members.join(', ')}); begin one with --new\n`)
                return ExitCode.ok
            case 'start': {
                const value = await readSecretValue(ctx, step.next)
                if (/[\r\n]/.test(value)) throw new KeyfleetError('VALUE_MULTILINE', `the new value for ${base} spans several lines; check what you piped in (nothing was changed)`)
                checkValue(repo, step.next, value, values.force === true)
                const current = (await decryptNative(readText(secretsPath), { store: 'dotenv', identities: nativeIdentities(ctx, values['identity-file'] as string | undefined), file: paths.secrets })).toEnvMap()
                if (members.some((m) => current.get(m) === value)) throw new KeyfleetError('ROTATE_SAME_VALUE', `the new value is the one ${base} already has; create a new key at the provider first (nothing was changed)`)
                // env.secrets first: a deployment.yaml naming a key the environment lacks would fail the render.
                await writeSecretValues(repo.root, paths.secrets, new Map([[step.next, value]]), sops)
                writeDeployment(addToDeployment(deploymentText, [...readersOf(parsed.deployment, members).keys()], step.next))
                ctx.stdout.write(`step a: added ${step.next} (${formatHint(keyHint(step.next, value, repo.index))}) beside ${members.join(', ')}; agents reading ${base} now read both\n`)
                next(ctx, env, base, `commit ${paths.secrets} and ${paths.deployment}, merge and let the deploy run`)
                return ExitCode.ok
            }
            case 'finish-add':
                writeDeployment(addToDeployment(deploymentText, step.agents, step.newest))
                ctx.stdout.write(`step a: ${step.newest} added to the keys of ${step.agents.join(', ')}\n`)
                next(ctx, env, base, `commit ${paths.secrets} and ${paths.deployment}, merge and let the deploy run`)
                return ExitCode.ok
            case 'await-overlap':
                if (!(await confirmed(ctx, repo, env, [...step.old, step.newest], values))) {
                    next(ctx, env, base, `deploy ${step.newest} (commit, merge, let the deploy run) and wait until every agent above is current`)
                    return ExitCode.findings
                }
                // deployment.yaml first: once no agent reads the old member, removing it from env.secrets changes no render.
                writeDeployment(removeFromDeployment(deploymentText, step.old, repo.index))
                await removeOld(step.old)
                ctx.stdout.write(`step b: every agent serves ${step.newest}; removed ${step.old.join(', ')} from ${paths.deployment} and ${paths.secrets}\n`)
                next(ctx, env, base, `commit both files, merge and let the deploy run`)
                return ExitCode.ok
            case 'finish-remove':
                await removeOld(step.old)
                ctx.stdout.write(`step b: removed ${step.old.join(', ')} from ${paths.secrets}\n`)
                next(ctx, env, base, `commit both files, merge and let the deploy run`)
                return ExitCode.ok
            case 'await-removal': {
                if (!(await confirmed(ctx, repo, env, members, values))) {
                    next(ctx, env, base, `deploy the removal of ${step.removed.join(', ')} and wait until every agent above is current; do NOT revoke yet`)
                    return ExitCode.findings
                }
                const old = await showFile(repo.root, step.from, paths.secrets)
                const oldValues = old && (await decryptNative(old.toString('utf8'), { store: 'dotenv', identities: nativeIdentities(ctx, values['identity-file'] as string | undefined), file: paths.secrets })).toEnvMap()
                const service = resolved.spec.service
                for (const name of step.removed) {
                    const value = oldValues?.get(name)
                    const hint = value === undefined ? name : formatHint(keyHint(name, value, repo.index))
                    ctx.stdout.write(`step c: no agent uses the old ${name} any more (${hint}). Revoke it now: ${CONSOLE_LINKS[service] ?? `${service}'s console`} — the key ending in ${value?.slice(-4) ?? '?'}\n`)
                    const adminFile = values['admin-key-file']
                    if (typeof adminFile !== 'string' || value === undefined) continue
                    if (!(ADMIN_REVOKE as readonly string[]).includes(service)) throw new KeyfleetError('ROTATE_REVOKE_FAILED', `keyfleet cannot revoke ${service} keys through an API; use the console link above`)
                    const adminKey = readFileSync(resolve(ctx.cwd, adminFile), 'utf8').trim()
                    const outcome = await revokeByAdminApi({ service, oldValue: value, adminKey, project: values['openai-project'] as string | undefined, baseUrl: values['admin-base-url'] as string | undefined })
                    ctx.stdout.write(outcome.revoked === 'now' ? `revoked ${name} at ${service} (key id ${outcome.id ?? '?'})\n` : `${name} is already revoked at ${service} (not listed as active${outcome.id ? `: ${outcome.id}` : ''})\n`)
                }
                return ExitCode.ok
            }
        }
    },
}
