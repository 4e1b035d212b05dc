/**
 * The sops binary for the commands that write (fold). The workflow installs
 * the pinned sops into a directory it adds to PATH; the action finds it there
 * and runs it by absolute path, because src/sops gives the child a minimal
 * environment without PATH (nothing from the step, such as a stray
 * SOPS_AGE_KEY, reaches sops).
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import type { SopsOptions } from '../sops/index.js'

/**
 * Locates sops: `KEYFLEET_SOPS` when set, else the first executable `sops`
 * on PATH. Falls back to plain `sops`, which src/sops then reports as
 * `SOPS_MISSING` with the install instructions.
 *
 * @param env - The step's environment.
 */
export const locateSops = (env: NodeJS.ProcessEnv): string => {
    if (env.KEYFLEET_SOPS) return env.KEYFLEET_SOPS
    for (const dir of (env.PATH ?? '').split(delimiter)) {
        if (dir === '' || !isAbsolute(dir)) continue
        const candidate = join(dir, 'sops')
        try {
            accessSync(candidate, constants.X_OK)
            return candidate
        } catch {
            // not in this directory; try the next one
        }
    }
    return 'sops'
}

/**
 * sops options for the checkout at `root`: the located binary, HOME for
 * sops's own config lookup, and the identities as SOPS_AGE_KEY of the child
 * process only (never this process's environment, never a file).
 */
export const actionSopsOptions = (env: NodeJS.ProcessEnv, root: string, identities: readonly string[]): SopsOptions => ({
    cwd: root,
    sopsPath: locateSops(env),
    identity: { ageKey: identities.join('\n') },
    ...(env.HOME ? { home: env.HOME } : {}),
})
