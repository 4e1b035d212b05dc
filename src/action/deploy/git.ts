/**
 * git for the deploy workflow's fetches and pushes. Arguments never hold a
 * credential: the token reaches git as an `http.<server>/.extraheader`
 * through GIT_CONFIG_* environment variables (not argv, not .git/config),
 * and its encoded header is masked before git runs.
 */
import { execa } from 'execa'
import { KeyfleetError } from '../../errors.js'
import type { SetSecret } from '../mask.js'

/** The environment that makes git send `token` to `serverUrl`, masking the header first. */
export const authEnv = (token: string, serverUrl: string, setSecret: SetSecret): Record<string, string> => {
    if (token === '') return {}
    const basic = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64')
    setSecret(basic)
    return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${serverUrl}/.extraheader`, GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}` }
}

/** Result of one git run. */
export interface GitResult {
    readonly ok: boolean
    readonly stdout: string
    readonly stderr: string
}

/** A git runner bound to a checkout and an environment. */
export type Git = (args: readonly string[]) => Promise<GitResult>

/** Makes a {@link Git} for `cwd`; `env` adds to the step's environment (never prompts). */
export const gitIn = (cwd: string, base: NodeJS.ProcessEnv, env: Record<string, string> = {}): Git => async (args) => {
    const result = await execa('git', [...args], {
        cwd, reject: false, stripFinalNewline: false, verbose: 'none', extendEnv: false,
        env: { ...base, GIT_TERMINAL_PROMPT: '0', ...env },
    })
    if ((result as { code?: string }).code === 'ENOENT') throw new KeyfleetError('GIT_MISSING', 'git could not be run: install git and make sure it is on PATH')
    return { ok: !result.failed, stdout: String(result.stdout), stderr: String(result.stderr ?? '') }
}

/** Runs git and returns stdout, or throws `GIT_FAILED` naming what failed (first line of stderr: refs and paths, never content). */
export const must = async (git: Git, args: readonly string[], what: string): Promise<string> => {
    const r = await git(args)
    if (!r.ok) throw new KeyfleetError('GIT_FAILED', `git could not ${what} (${r.stderr.split('\n')[0]?.trim() ?? ''}): nothing was pushed or changed.`)
    return r.stdout
}

/** Whether `a` is an ancestor of (or equal to) `b`. */
export const isAncestor = async (git: Git, a: string, b: string): Promise<boolean> => (await git(['merge-base', '--is-ancestor', a, b])).ok
