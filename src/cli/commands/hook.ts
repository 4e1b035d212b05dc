/**
 * `keyfleet hook install`: adds the pre-commit hook that runs
 * `keyfleet scan --staged`.
 */
import { installHook } from '../../validate/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { rootOf } from './validate.js'

export const command: Command = {
    name: 'hook install',
    summary: 'Install a git pre-commit hook that blocks plaintext provider keys',
    usage: 'hook install [--force]',
    help: `Writes .git/hooks/pre-commit (or the core.hooksPath equivalent) running
\`keyfleet scan --staged\`. An existing hook not written by keyfleet is left alone unless
--force is given. See docs/validation.md.`,
    options: {
        force: { type: 'boolean', description: 'replace a pre-commit hook that keyfleet did not write' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: current directory)' },
    },
    positionals: [0, 0],
    run: async (args, ctx) => {
        const result = await installHook(rootOf(args, ctx), { force: args.values.force === true })
        ctx.stdout.write(`${result.action} ${result.path}: commits now run \`keyfleet scan --staged\`\n`)
        return ExitCode.ok
    },
}
