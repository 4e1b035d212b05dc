/**
 * `keyfleet run <env> [--only NAMES] [--override] -- <command> [args…]`: runs a program with the
 * environment's keys as environment variables. Decrypted in process (no sops, no plaintext file);
 * the values travel only in the child's environment block, never in argv. Precedence follows the
 * loader: a usable variable already set wins, a placeholder one does not (catalog/placeholder.ts).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { withBareNames } from '../../catalog/bare-names.js'
import { isPlaceholder } from '../../catalog/placeholder.js'
import type { CatalogIndex } from '../../catalog/index.js'
import { KeyfleetError } from '../../errors.js'
import type { Command } from '../command.js'
import { decryptNative, nativeIdentities, openRepo } from '../repo-context.js'
import { existingSecrets } from '../secret-target.js'
import { divertSignals } from '../signals.js'

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** The file's names that `--only` selects: catalog names, aliases, service names (a service brings its pool), or names in the file. */
export const selectNames = (only: readonly string[], names: readonly string[], index: CatalogIndex): Set<string> => {
    const selected = new Set<string>()
    for (const wanted of only) {
        const spec = index.byService(wanted)
        const matches = spec
            ? names.filter((name) => index.resolve(name)?.spec.service === spec.service)
            : names.filter((name) => name === wanted || name === index.resolve(wanted)?.name)
        if (matches.length === 0) throw new KeyfleetError('RUN_UNKNOWN_NAME', `--only ${wanted}: no such key or service in this environment; \`keyfleet ls <env>\` lists its names`)
        for (const name of matches) selected.add(name)
    }
    return selected
}

/**
 * The child's environment: the parent's, plus each key that the parent does not already hold with a
 * usable value (or every key with `override`). Placeholders in the file are never exported.
 */
export const childEnvironment = (parent: NodeJS.ProcessEnv, keys: ReadonlyMap<string, string>, override: boolean): Record<string, string> => {
    const env: Record<string, string> = {}
    for (const [name, value] of Object.entries(parent)) if (value !== undefined) env[name] = value
    for (const [name, value] of keys) {
        if (isPlaceholder(value)) continue
        const existing = parent[name]
        if (!override && existing !== undefined && !isPlaceholder(existing)) continue
        env[name] = value
    }
    return env
}

/** Why the program did not start, as a shell would say it (exit 127 not found, 126 not executable; cli/exit-codes.ts). */
const spawnError = (program: string, error: NodeJS.ErrnoException): KeyfleetError => {
    const shown = JSON.stringify(program.slice(0, 200))
    const where = program.includes('/') ? 'no such file' : 'not found on PATH'
    if (error.code === 'ENOENT') return new KeyfleetError('RUN_COMMAND_NOT_FOUND', `cannot run ${shown}: ${where} (exit 127, as a shell); check the spelling, or give its path`)
    if (error.code === 'EACCES' || error.code === 'EISDIR' || error.code === 'ENOEXEC') {
        return new KeyfleetError('RUN_COMMAND_NOT_EXECUTABLE', `cannot run ${shown}: it is not an executable file (${error.code}; exit 126, as a shell); make it executable (chmod +x) or run it through its interpreter`)
    }
    return new KeyfleetError('RUN_COMMAND_FAILED', `cannot run ${shown} (${error.code ?? 'error'})`)
}

export const command: Command = {
    name: 'run',
    summary: 'Run a program with an environment\'s keys as environment variables',
    usage: 'run <env> [--only NAMES] [--override] -- <command> [args…]',
    positionals: [2, Number.MAX_SAFE_INTEGER],
    help: `Decrypts <env>'s env.secrets in process (the MAC is verified first) and runs
<command> with its keys added to the environment. Values never appear in argv
and nothing is written to disk. A variable already set in your shell wins
(unless --override); an empty or placeholder one (changeme, <your-key>, …) does not.
A key whose pool has no bare member (rotate-key left only OPENAI_API_KEY_2) is
also passed under its bare name, as the newest member.
stdin, stdout and stderr are the program's; its exit code is keyfleet's, and a
program killed by a signal gives 128+n; a program not found gives 127 and one
that is not executable 126, as in a shell. SIGINT, SIGTERM and SIGHUP are passed on.

Examples:
  SOPS_AGE_KEY_FILE=examples/demo-keys/dev.agekey keyfleet run dev -- node agent.js
  keyfleet run dev --only openai,anthropic -- python bot.py`,
    options: {
        only: { type: 'string', arg: 'NAMES', multiple: true, description: 'comma-separated key names, aliases or services to pass (default: all)' },
        override: { type: 'boolean', description: 'the environment\'s keys replace variables already set' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: where sops looks)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env, program, ...args] = positionals as [string, string, ...string[]]
        const repo = openRepo(ctx)
        const target = existingSecrets(repo, env)
        const identities = nativeIdentities(ctx, values['identity-file'] as string | undefined)
        const decrypted = await decryptNative(readFileSync(target.file, 'utf8'), { store: 'dotenv', identities, file: target.paths.secrets })
        // A pool without its bare member (after rotate-key) also goes out under the bare name, as its newest member.
        let keys = withBareNames(decrypted.toEnvMap(), repo.index)
        const only = ([] as unknown[]).concat(values.only ?? []).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean)
        if (only.length > 0) {
            const selected = selectNames(only, [...keys.keys()], repo.index)
            keys = new Map([...keys].filter(([name]) => selected.has(name)))
        }
        const childEnv = childEnvironment(ctx.env, keys, values.override === true)
        return await new Promise<number>((resolve, reject) => {
            // The child gets the terminal's signals itself (same process group); a kill aimed at keyfleet alone
            // is passed on, and keyfleet waits for the child instead of exiting under it (main.ts's handlers are
            // set aside for the child's lifetime, without a gap that would lose a signal: cli/signals.ts).
            // JS sees signals only between tasks, so `child` is set before any reaches the forwarder.
            let child: ReturnType<typeof spawn> | undefined
            const restore = divertSignals(FORWARDED, (signal) => { child?.kill(signal) })
            try {
                child = spawn(program, args, { cwd: ctx.cwd, env: childEnv, stdio: 'inherit' })
            } catch (error) {
                restore()
                throw error
            }
            child.on('error', (error: NodeJS.ErrnoException) => {
                restore()
                reject(spawnError(program, error))
            })
            child.on('exit', (code, signal) => {
                restore()
                resolve(signal ? 128 + (constants.signals[signal] ?? 0) : code ?? 1)
            })
        })
    },
}
