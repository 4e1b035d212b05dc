/**
 * The git pre-commit hook that runs `keyfleet scan --staged`, so a provider
 * key is stopped before it enters history (where only rotation helps).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KeyfleetError } from '../errors.js'
import { hooksDir } from './git.js'

/** The line that marks a hook as ours; a hook without it is someone else's. */
export const HOOK_MARKER = '# keyfleet pre-commit hook'

/** The hook script. Prefers a keyfleet on PATH, then the project's own (npx, no download). */
export const hookScript = (): string => `#!/bin/sh
${HOOK_MARKER} (installed by \`keyfleet hook install\`; remove this file to disable)
# Scans the staged content for plaintext provider keys. To commit a known fake
# key (tests, docs), put "keyfleet:allow" on its line.
if command -v keyfleet >/dev/null 2>&1; then
    exec keyfleet scan --staged
fi
exec npx --no-install keyfleet scan --staged
`

/** What {@link installHook} did. */
export interface HookInstall {
    /** Absolute path of the hook file. */
    readonly path: string
    /** `created`, `updated` (ours, rewritten) or `replaced` (foreign, with force). */
    readonly action: 'created' | 'updated' | 'replaced'
}

/**
 * Installs the pre-commit hook into the repository at `root` (honouring
 * `core.hooksPath`), atomically and executable.
 * @throws KeyfleetError `HOOK_EXISTS` when a pre-commit hook not written by
 *   keyfleet exists and `force` is false; `GIT_FAILED` outside a repository.
 */
export const installHook = async (root: string, options: { force?: boolean } = {}): Promise<HookInstall> => {
    const dir = await hooksDir(root)
    const path = join(dir, 'pre-commit')
    let action: HookInstall['action'] = 'created'
    if (existsSync(path)) {
        const ours = readFileSync(path, 'utf8').includes(HOOK_MARKER)
        if (!ours && !options.force) {
            throw new KeyfleetError('HOOK_EXISTS', `${path} exists and was not written by keyfleet: add \`keyfleet scan --staged\` to it yourself, or rerun with --force to replace it`, { file: path })
        }
        action = ours ? 'updated' : 'replaced'
    }
    mkdirSync(dir, { recursive: true })
    const tmp = join(dir, `.keyfleet-tmp-pre-commit-${process.pid}`)
    writeFileSync(tmp, hookScript(), { mode: 0o755 })
    chmodSync(tmp, 0o755)
    renameSync(tmp, path)
    return { path, action }
}
