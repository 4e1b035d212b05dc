/**
 * The shape of one `keyfleet` subcommand. Each command lives in its own file
 * under `cli/commands/` and is listed in `cli/commands/index.ts`.
 */
import type { Readable, Writable } from 'node:stream'

/** What a command may touch: everything from the process, injected for tests. */
export interface CliContext {
    readonly cwd: string
    readonly env: NodeJS.ProcessEnv
    readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown }
    readonly stdout: Writable & { isTTY?: boolean }
    readonly stderr: Writable & { isTTY?: boolean }
    /**
     * False when stderr certainly is no terminal, answered without creating `stderr` (main.ts: fd 2 is not
     * a character device). Creating node's stderr stream costs a few ms of start (issue 15); the progress
     * line only needs it on a terminal. Absent: look at `stderr.isTTY`.
     */
    readonly stderrMayBeTTY?: () => boolean
}

/** One option, in `node:util` parseArgs form plus help text. */
export interface OptionSpec {
    readonly type: 'string' | 'boolean'
    readonly short?: string
    readonly multiple?: boolean
    readonly description: string
    /** Placeholder shown in help for string options, e.g. `FILE`. */
    readonly arg?: string
}

/** Parsed arguments handed to {@link Command.run}. */
export interface CommandArgs {
    readonly positionals: readonly string[]
    readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>
}

/** A subcommand. `run` returns the process exit code (see cli/exit-codes.ts). */
export interface Command {
    /** Name as typed, e.g. `set`; nested commands use a space, e.g. `hook install`. */
    readonly name: string
    /** One line for the command list. */
    readonly summary: string
    /** Usage line without the program name, e.g. `set <env> <NAME> [options]`. */
    readonly usage: string
    /** Longer help: what it does, examples. */
    readonly help: string
    readonly options: Readonly<Record<string, OptionSpec>>
    /** Minimum and maximum number of positionals. */
    readonly positionals: readonly [min: number, max: number]
    run(args: CommandArgs, ctx: CliContext): Promise<number>
}
