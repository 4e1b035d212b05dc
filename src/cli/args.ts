/**
 * Argument parsing and help rendering on top of node:util parseArgs: no
 * dependency, strict (unknown options are errors), `--help` everywhere.
 */
import { parseArgs } from 'node:util'
import { KeyfleetError } from '../errors.js'
import type { Command, CommandArgs } from './command.js'

/** Help text for one command. */
export const renderHelp = (command: Command): string => {
    const lines = [`Usage: keyfleet ${command.usage}`, '', command.summary, '']
    if (command.help) lines.push(command.help.trimEnd(), '')
    const entries: [string, string][] = Object.entries(command.options).map(([name, spec]) => [
        `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : ''}`,
        spec.description + (spec.multiple && !/repeatable/.test(spec.description) ? ' (repeatable)' : ''),
    ])
    entries.push(['-h, --help', 'Show this help'])
    const width = Math.max(...entries.map(([flag]) => flag.length))
    lines.push('Options:', ...entries.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`))
    return `${lines.join('\n')}\n`
}

/**
 * Parses `argv` for `command`.
 * @throws KeyfleetError `USAGE` with a message naming the bad option or count.
 */
export const parseCommandArgs = (command: Command, argv: readonly string[]): CommandArgs & { help: boolean } => {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } }
    for (const [name, spec] of Object.entries(command.options)) {
        options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) }
    }
    let parsed
    try {
        parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
    } catch (cause) {
        const detail = cause instanceof Error ? cause.message.split('\n')[0] : 'invalid arguments'
        throw new KeyfleetError('USAGE', `${detail}. Run \`keyfleet ${command.name} --help\` for usage.`, { cause })
    }
    const help = parsed.values.help === true
    const [min, max] = command.positionals
    if (!help && (parsed.positionals.length < min || parsed.positionals.length > max)) {
        throw new KeyfleetError('USAGE', `expected: keyfleet ${command.usage}. Run \`keyfleet ${command.name} --help\` for details.`)
    }
    return { positionals: parsed.positionals, values: parsed.values, help }
}
