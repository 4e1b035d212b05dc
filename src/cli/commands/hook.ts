/**
 * `keyfleet hook install`: adds the pre-commit hook that runs
 * `keyfleet scan --staged`.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { KeyfleetError } from '../../errors.js'
import { installHook, type HookCli } from '../../validate/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { rootOf } from './validate.js'

/**
 * Set by scripts/build-cli.mjs in a command's bundle: the bundle's main.js, absolute (the bundle loader
 * knows where it loaded the command from). tsc's output has none and finds `../main.js` beside this module.
 */
declare const KEYFLEET_BUNDLE_MAIN: string | undefined

/**
 * This keyfleet: the node running it and the CLI entry point next to this
 * module (dist/src/cli/main.js), both absolute, so the hook needs neither PATH nor npx.
 * @throws KeyfleetError `USAGE` when the entry point is not there (keyfleet run from its TypeScript sources).
 */
export const thisCli = (): HookCli => {
    const script = typeof KEYFLEET_BUNDLE_MAIN === 'string' ? KEYFLEET_BUNDLE_MAIN : fileURLToPath(new URL('../main.js', import.meta.url))
    if (!existsSync(script)) {
        throw new KeyfleetError('USAGE', `cannot find keyfleet's CLI script at ${script}: install the hook from a built keyfleet (npm run build, then node dist/src/cli/main.js hook install)`)
    }
    return { node: process.execPath, script }
}

export const command: Command = {
    name: 'hook install',
    summary: 'Install a git pre-commit hook that blocks plaintext provider keys',
    usage: 'hook install [--force]',
    help: `Writes .git/hooks/pre-commit (or the core.hooksPath equivalent) running
\`keyfleet scan --staged\` with this very keyfleet, by absolute path (node and the CLI script;
no PATH lookup, no npx). If that keyfleet is later moved or removed, the hook blocks the
commit and says to reinstall. An existing hook not written by keyfleet is left alone unless
--force is given. See docs/validation.md.`,
    options: {
        force: { type: 'boolean', description: 'replace a pre-commit hook that keyfleet did not write' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: current directory)' },
    },
    positionals: [0, 0],
    run: async (args, ctx) => {
        const result = await installHook(rootOf(args, ctx), { cli: thisCli(), force: args.values.force === true })
        ctx.stdout.write(`${result.action} ${result.path}: commits now run \`keyfleet scan --staged\`\n`)
        return ExitCode.ok
    },
}
