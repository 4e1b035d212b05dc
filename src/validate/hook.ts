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

/** The keyfleet CLI that installs the hook: the node binary and the CLI script, both absolute. */
export interface HookCli {
    /** Absolute path of node (`process.execPath` in the CLI). */
    readonly node: string
    /** Absolute path of keyfleet's CLI script (dist/src/cli/main.js). */
    readonly script: string
}

/** Quotes `text` for sh: single quotes, with embedded ones closed, escaped and reopened. */
const shQuote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`

/**
 * The hook script. It runs the very CLI that installed it, by absolute path:
 * no PATH lookup and never npx (which may contact the registry and bury the
 * result in npm noise). When that CLI is gone (moved, upgraded, an npx cache
 * cleared) the commit is blocked with a message saying how to reinstall.
 */
export const hookScript = (cli: HookCli): string => `#!/bin/sh
${HOOK_MARKER} (installed by \`keyfleet hook install\`; remove this file to disable)
# Runs \`keyfleet scan --staged\`: scans the staged content for plaintext provider
# keys. To commit a known fake key (tests, docs), put "keyfleet:allow <rule>" on its line
# (the rule id the finding names, e.g. openai).
KEYFLEET_NODE=${shQuote(cli.node)}
KEYFLEET_CLI=${shQuote(cli.script)}
if [ -x "$KEYFLEET_NODE" ] && [ -f "$KEYFLEET_CLI" ]; then
    exec "$KEYFLEET_NODE" "$KEYFLEET_CLI" scan --staged
fi
echo 'keyfleet pre-commit hook: the keyfleet that installed this hook no longer exists:' >&2
echo "    $KEYFLEET_NODE $KEYFLEET_CLI" >&2
echo 'Reinstall the hook with the keyfleet you use now (keyfleet hook install), or delete this file to stop scanning commits:' >&2
echo "    $0" >&2
exit 1
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
 * `core.hooksPath`), atomically and executable. `cli` is the keyfleet the hook
 * will run (the CLI passes its own node and script; the core reads no process state).
 * @throws KeyfleetError `HOOK_EXISTS` when a pre-commit hook not written by
 *   keyfleet exists and `force` is false; `GIT_FAILED` outside a repository.
 */
export const installHook = async (root: string, options: { cli: HookCli; force?: boolean }): Promise<HookInstall> => {
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
    writeFileSync(tmp, hookScript(options.cli), { mode: 0o755 })
    chmodSync(tmp, 0o755)
    renameSync(tmp, path)
    return { path, action }
}
