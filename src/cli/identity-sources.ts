/**
 * Which identity sources a decrypting command used or tried, for its failure messages
 * (issue 12 item 6), and the one gap in keyfleet's identity lookup: SSH identities.
 *
 * sops 3.13.2 (age/keysource.go, loadAgeSSHIdentities) also reads SSH private keys:
 * SOPS_AGE_SSH_PRIVATE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_CMD, then ~/.ssh/id_ed25519 and
 * ~/.ssh/id_rsa. keyfleet decrypts in process with age identities only (age-encryption has no
 * SSH support), so an SSH source is never silently ignored: when it is all there is, the
 * command refuses with NATIVE_SSH_IDENTITY_UNSUPPORTED, and every failure names it.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { SopsIdentity } from '../sops/index.js'
import { userConfigDir } from '../sops/native/identities.js'
import type { CliContext } from './command.js'

/** The SSH identity sources sops would read here: variables set, default key files present. */
export const sshSources = (ctx: CliContext): string[] => [
    ...['SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_SSH_PRIVATE_KEY_CMD'].filter((name) => ctx.env[name] !== undefined),
    ...(ctx.env.HOME ? ['id_ed25519', 'id_rsa'].map((f) => join(ctx.env.HOME as string, '.ssh', f)).filter((p) => existsSync(p)) : []),
]

/** What to do about SSH sources: a sentence, empty when there are none. */
export const sshGap = (sources: readonly string[]): string => sources.length === 0 ? '' :
    ` SSH identities (${sources.join(', ')}) are not read: keyfleet decrypts with age identities (AGE-SECRET-KEY-1…) only; convert the SSH key with ssh-to-age (\`ssh-to-age -private-key -i ~/.ssh/id_ed25519\`) into a keys.txt file and set SOPS_AGE_KEY_FILE to it, or create an age identity with \`keyfleet keygen\`.`

/** sops's user keys.txt path for this process, when it can be determined. */
const userKeysPath = (ctx: CliContext): string | undefined => {
    const dir = userConfigDir(ctx.env, { platform: process.platform, join, isAbsolute: (p) => resolve(p) === p })
    return 'dir' in dir ? join(dir.dir, 'sops', 'age', 'keys.txt') : undefined
}

/**
 * The identities a sops child is given (names and paths, never content), in sops's order, each
 * marked used or missing; SSH variables are named as not passed (the child gets a minimal environment).
 */
export const sopsIdentitySources = (ctx: CliContext, identity: SopsIdentity): string[] => {
    const out: string[] = []
    if (identity.ageKey) out.push('SOPS_AGE_KEY')
    const envFile = ctx.env.SOPS_AGE_KEY_FILE ? resolve(ctx.cwd, ctx.env.SOPS_AGE_KEY_FILE) : undefined
    if (identity.ageKeyFile) {
        const missing = existsSync(identity.ageKeyFile) ? '' : ': no such file'
        out.push(identity.ageKeyFile === envFile ? `SOPS_AGE_KEY_FILE (${identity.ageKeyFile}${missing})` : `--identity-file ${identity.ageKeyFile}${missing}`)
    }
    if (identity.ageKeyCmd) out.push('SOPS_AGE_KEY_CMD')
    const keys = userKeysPath(ctx)
    if (keys) out.push(`${keys}${existsSync(keys) ? '' : ' (no such file)'}`)
    for (const source of sshSources(ctx)) {
        // sops gets HOME (for its keys.txt), so it reads ~/.ssh keys itself; the SSH variables it never sees.
        out.push(source.startsWith('SOPS_') ? `${source} (set, but not passed to sops: keyfleet uses age identities only)` : `${source} (an SSH key: sops reads it, keyfleet's in-process commands do not)`)
    }
    return out
}
