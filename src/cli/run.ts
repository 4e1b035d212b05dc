/**
 * Dispatches argv to a subcommand and turns errors into exit codes and
 * messages. Testable: takes an injected {@link CliContext}.
 */
import { isKeyfleetError } from '../errors.js'
import { parseCommandArgs, renderHelp } from './args.js'
import type { CliContext } from './command.js'
import { commandGroups, commands, type CommandEntry } from './commands/index.js'
import { ExitCode, exitCodeFor } from './exit-codes.js'
import { withProgress } from './progress.js'

const VERSION = '0.1.0'

const overview = (): string => {
    const width = Math.max(...commands.map((c) => c.name.length))
    return [
        'keyfleet: LLM provider keys for a fleet of AI agents, kept in git with SOPS and age.',
        '',
        'Usage: keyfleet <command> [options]',
        '',
        ...commandGroups.flatMap(([title, group]) => [`${title}:`, ...group.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '']),
        'Run `keyfleet <command> --help` for a command\'s options and examples.',
        'Exit codes: 0 ok, 1 findings, 2 usage/input error, 3 cannot decrypt, 4 tool missing.',
        '',
    ].join('\n')
}

const groupHelp = (name: string, group: readonly CommandEntry[]): string => {
    const width = Math.max(...group.map((c) => c.name.length))
    return [`Usage: keyfleet ${name} <command> [options]`, '', 'Commands:', ...group.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '',
        `Run \`keyfleet ${group[0]?.name ?? name} --help\` for a command's options and examples.`, ''].join('\n')
}

/** Finds the command for argv, longest name first (`hook install` before `hook`). */
const match = (argv: readonly string[]): [CommandEntry, string[]] | undefined => {
    const sorted = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    for (const command of sorted) {
        const words = command.name.split(' ')
        if (words.every((word, i) => argv[i] === word)) return [command, argv.slice(words.length)]
    }
    return undefined
}

/** Runs keyfleet with `argv` (without node and script) and returns the exit code. */
export const runCli = async (argv: readonly string[], ctx: CliContext): Promise<number> => {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
        ctx.stdout.write(overview())
        return argv.length === 0 ? ExitCode.usage : ExitCode.ok
    }
    if (argv[0] === '--version' || argv[0] === '-V') {
        ctx.stdout.write(`${VERSION}\n`)
        return ExitCode.ok
    }
    const found = match(argv)
    if (!found) {
        const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `))
        // A group with no command of its own (`rollout`): with --help it lists its commands, as `keyfleet --help` does;
        // alone it lists them too, and still fails (2) with the hint, as a bare `keyfleet` does.
        if (group.length > 0 && argv.length === 2 && ['--help', '-h', 'help'].includes(argv[1] as string)) {
            ctx.stdout.write(groupHelp(String(argv[0]), group))
            return ExitCode.ok
        }
        if (group.length > 0 && argv.length === 1) ctx.stdout.write(groupHelp(String(argv[0]), group))
        const nested = group.map((c) => `keyfleet ${c.name}`)
        const hint = nested.length > 0 ? `; did you mean ${nested.join(' or ')}?` : '. Run `keyfleet --help` for the list.'
        ctx.stderr.write(`keyfleet: unknown command "${String(argv[0]).slice(0, 40)}"${hint}\n`)
        return ExitCode.usage
    }
    const [entry, rest] = found
    const command = await entry.load()
    try {
        const args = parseCommandArgs(command, rest)
        if (args.help) {
            ctx.stdout.write(renderHelp(command))
            return ExitCode.ok
        }
        if (!entry.progress) return await command.run(args, ctx)
        const progress = withProgress(command.name, ctx)
        try {
            return await command.run(args, progress.ctx)
        } finally {
            progress.done()
        }
    } catch (error) {
        if (isKeyfleetError(error)) {
            ctx.stderr.write(`keyfleet ${command.name}: ${error.message} [${error.code}]\n`)
            return exitCodeFor(error.code)
        }
        // Unexpected errors: print only the type and message of our own code's failure.
        // Messages from third-party code could embed input, so print no more than the class name.
        const name = error instanceof Error ? error.constructor.name : typeof error
        ctx.stderr.write(`keyfleet ${command.name}: internal error (${name}). Please report it with the command you ran (not its input).\n`)
        return ExitCode.usage
    }
}
