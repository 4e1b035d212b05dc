/**
 * Reading a secret value: from a pipe (stdin) or from a hidden prompt on the
 * terminal. Never from argv. The prompt echoes nothing, not even asterisks.
 */
import { KeyfleetError } from '../errors.js'
import type { CliContext } from './command.js'

const MAX_VALUE_BYTES = 64 * 1024

/** Reads all of stdin (a pipe or file), capped at 64 KiB. */
const readPipe = async (stdin: CliContext['stdin']): Promise<string> => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of stdin) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
        size += buf.length
        if (size > MAX_VALUE_BYTES) throw new KeyfleetError('VALUE_TOO_LARGE', 'the value on stdin is larger than 64 KiB; API keys are much shorter — check what you piped in')
        chunks.push(buf)
    }
    try {
        return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
    } catch {
        // Decoding leniently would store U+FFFD in place of the bytes given.
        throw new KeyfleetError('VALUE_NOT_UTF8', 'the value on stdin is not valid UTF-8 text; keyfleet stores text exactly as given and would have to change these bytes (nothing was changed)')
    }
}

/** Prompts on the TTY with echo off; resolves at Enter, rejects at Ctrl-C. */
const readHidden = (ctx: CliContext, prompt: string): Promise<string> => new Promise((resolvePromise, reject) => {
    const { stdin } = ctx
    ctx.stderr.write(prompt)
    let value = ''
    stdin.setRawMode?.(true)
    stdin.resume()
    const done = (error?: KeyfleetError): void => {
        stdin.setRawMode?.(false)
        stdin.pause()
        stdin.removeListener('data', onData)
        ctx.stderr.write('\n')
        if (error) reject(error)
        else resolvePromise(value)
    }
    const onData = (chunk: Buffer | string): void => {
        for (const char of chunk.toString()) {
            if (char === '\r' || char === '\n') return done()
            if (char === '\u0003') return done(new KeyfleetError('INTERRUPTED', 'cancelled; nothing was changed'))
            if (char === '\u0004' && value === '') return done()
            if (char === '\u007f' || char === '\b') value = value.slice(0, -1)
            else value += char
        }
    }
    stdin.on('data', onData)
})

/**
 * Reads one secret value for `name`: the whole of stdin when it is not a
 * terminal (one trailing newline removed; the value may span lines, e.g. a PEM
 * key or service-account JSON), else a hidden prompt (one line).
 * @throws KeyfleetError `VALUE_EMPTY`, `VALUE_WHITESPACE`, `VALUE_TOO_LARGE`, `VALUE_NOT_UTF8`.
 */
export const readSecretValue = async (ctx: CliContext, name: string): Promise<string> => {
    const raw = ctx.stdin.isTTY ? await readHidden(ctx, `Value for ${name} (input hidden): `) : await readPipe(ctx.stdin)
    const value = raw.replace(/\r?\n$/, '')
    if (value.trim() === '') throw new KeyfleetError('VALUE_EMPTY', `no value given for ${name}: pipe it in (e.g. \`pbpaste | keyfleet set …\`) or type it at the prompt. To remove a key use \`keyfleet unset\``)
    if (value !== value.trim()) throw new KeyfleetError('VALUE_WHITESPACE', `the value for ${name} has leading or trailing whitespace; remove it (nothing was changed)`)
    return value
}
