/**
 * A progress line for commands that wait on sops or git (issue 15): when a command has printed
 * nothing for half a second, a terminal shows `keyfleet <command>: working…` on stderr, erased
 * before the command's own first output and when it ends. Only on a TTY stderr, so CI logs and
 * pipes stay byte-for-byte what the command wrote. The line names the command, never its input.
 */
import type { Writable } from 'node:stream'
import type { CliContext } from './command.js'

/** How long a command may be silent before the line appears. */
export const PROGRESS_DELAY_MS = 500

/**
 * Wraps `ctx` so a silent command shows a progress line after {@link PROGRESS_DELAY_MS}.
 * @param name - The command's name, e.g. `validate`.
 * @param ctx - The real context; returned unchanged when stderr is not a TTY.
 * @returns The context to hand to the command and `done`, to call when it returns or throws.
 */
export const withProgress = (name: string, ctx: CliContext): { ctx: CliContext; done: () => void } => {
    if (ctx.stderrMayBeTTY?.() === false || ctx.stderr.isTTY !== true) return { ctx, done: () => undefined }
    let shown = false
    let silent = true
    const clear = (): void => {
        silent = false
        if (!shown) return
        shown = false
        ctx.stderr.write('\r\x1b[K')
    }
    const timer = setTimeout(() => {
        if (!silent) return
        shown = true
        ctx.stderr.write(`keyfleet ${name}: working (sops, git)…`)
    }, PROGRESS_DELAY_MS)
    // Never keep the process alive for the line's sake.
    timer.unref()
    const wrap = <T extends Writable>(stream: T): T => {
        // Everything else (isTTY, columns, events) is the real stream's, through the prototype.
        const wrapped = Object.create(stream) as T
        const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
        wrapped.write = ((...args: unknown[]) => { clear(); return write(...args) }) as T['write']
        return wrapped
    }
    return {
        // Copied by descriptor, not spread: getters (main.ts's lazy stdin) stay getters, since creating
        // process.stdin costs start-up time most commands never use.
        ctx: Object.defineProperties(Object.defineProperties({}, Object.getOwnPropertyDescriptors(ctx)), {
            stdout: { value: wrap(ctx.stdout), enumerable: true },
            stderr: { value: wrap(ctx.stderr), enumerable: true },
        }) as CliContext,
        done: () => { clearTimeout(timer); clear() },
    }
}
