/** The progress line of commands that wait on sops or git: TTY only, erased before output. */
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { CliContext } from '../../src/cli/command.js'
import { PROGRESS_DELAY_MS, withProgress } from '../../src/cli/progress.js'

const sink = (isTTY: boolean): Writable & { isTTY: boolean; text: () => string } => {
    const chunks: string[] = []
    const stream = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk.toString()); cb() } })
    return Object.assign(stream, { isTTY, text: () => chunks.join('') })
}

const context = (tty: boolean): { ctx: CliContext; out: ReturnType<typeof sink>; err: ReturnType<typeof sink> } => {
    const out = sink(tty)
    const err = sink(tty)
    return { ctx: { cwd: '/', env: {}, stdin: process.stdin, stdout: out, stderr: err }, out, err }
}

describe('withProgress', () => {
    beforeEach(() => { vi.useFakeTimers() })
    afterEach(() => { vi.useRealTimers() })

    it('shows the line on a terminal after the delay and erases it before the first output', () => {
        const { ctx, out, err } = context(true)
        const p = withProgress('validate', ctx)
        vi.advanceTimersByTime(PROGRESS_DELAY_MS - 1)
        expect(err.text()).toBe('')
        vi.advanceTimersByTime(1)
        expect(err.text()).toBe('keyfleet validate: working (sops, git)…')
        p.ctx.stdout.write('ok\n')
        expect(err.text()).toBe('keyfleet validate: working (sops, git)…\r\x1b[K')
        expect(out.text()).toBe('ok\n')
        p.done()
        expect(err.text()).toBe('keyfleet validate: working (sops, git)…\r\x1b[K')
        expect(p.ctx.stdout.isTTY).toBe(true)
    })

    it('stays silent when the command prints or ends first', () => {
        const early = context(true)
        const p = withProgress('diff', early.ctx)
        p.ctx.stderr.write('diff: 2 changed\n')
        vi.advanceTimersByTime(PROGRESS_DELAY_MS * 4)
        p.done()
        expect(early.err.text()).toBe('diff: 2 changed\n')
        const quick = context(true)
        withProgress('scan', quick.ctx).done()
        vi.advanceTimersByTime(PROGRESS_DELAY_MS * 4)
        expect(quick.err.text()).toBe('')
    })

    it('never writes to a pipe or a CI log', () => {
        const { ctx, err } = context(false)
        const p = withProgress('validate', ctx)
        expect(p.ctx).toBe(ctx)
        vi.advanceTimersByTime(PROGRESS_DELAY_MS * 4)
        p.done()
        expect(err.text()).toBe('')
    })

    it('does not create stderr when the process says it is no terminal (main.ts: fd 2 is no character device)', () => {
        const { ctx } = context(true)
        let created = 0
        const lazy: CliContext = { ...ctx, get stderr() { created++; return ctx.stderr }, stderrMayBeTTY: () => false }
        const p = withProgress('scan', lazy)
        vi.advanceTimersByTime(PROGRESS_DELAY_MS * 4)
        p.done()
        expect({ created, same: p.ctx === lazy }).toEqual({ created: 0, same: true })
        // A character device may be a terminal: then stderr decides, as without the hint.
        const maybe = withProgress('scan', { ...ctx, stderrMayBeTTY: () => true })
        vi.advanceTimersByTime(PROGRESS_DELAY_MS)
        maybe.done()
        expect((ctx.stderr as ReturnType<typeof sink>).text()).toBe('keyfleet scan: working (sops, git)…\r\x1b[K')
    })
})
