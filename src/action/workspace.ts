/**
 * The action's scratch space for plaintext: a private directory under
 * `RUNNER_TEMP` whose files are 0600, written atomically, and removed when
 * the step ends, however it ends. Cleanup is guaranteed by construction:
 * `dispose()` in a `finally`, plus a synchronous `process.on('exit')` hook
 * and signal handlers for the paths a `finally` never reaches (a cancelled
 * job sends SIGINT, then SIGTERM).
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join, relative, isAbsolute } from 'node:path'
import { randomBytes } from 'node:crypto'
import { KeyfleetError } from '../errors.js'

const live = new Set<Workspace>()
let hooked = false

const removeAll = (): void => {
    for (const ws of live) ws.dispose()
}

const onSignal = (signal: NodeJS.Signals): void => {
    removeAll()
    // Re-raise the default behaviour: exit with 128 + signal number.
    process.exit(signal === 'SIGINT' ? 130 : 143)
}

// One set of process hooks for all workspaces, installed on first use.
const installHooks = (): void => {
    if (hooked) return
    hooked = true
    process.on('exit', removeAll)
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
}

/**
 * A private temp directory for plaintext files.
 *
 * @example
 * ```ts
 * const ws = Workspace.create(process.env.RUNNER_TEMP)
 * try { ws.write('render/x.yaml', text) } finally { ws.dispose() }
 * ```
 */
export class Workspace {
    /** Absolute path of the private directory (mode 0700). */
    readonly dir: string
    private disposed = false

    private constructor(dir: string) {
        this.dir = dir
    }

    /**
     * Creates `keyfleet-<random>` under `parent` with mode 0700 and registers
     * it for removal at process exit.
     *
     * @param parent - Usually `RUNNER_TEMP`; must exist.
     * @throws KeyfleetError `ACTION_NO_RUNNER_TEMP` when `parent` is empty.
     */
    static create(parent: string | undefined): Workspace {
        if (!parent) {
            throw new KeyfleetError('ACTION_NO_RUNNER_TEMP', 'RUNNER_TEMP is not set: run the keyfleet action on a GitHub runner, or set RUNNER_TEMP to a private directory.')
        }
        installHooks()
        const dir = mkdtempSync(join(parent, 'keyfleet-'))
        chmodSync(dir, 0o700)
        const ws = new Workspace(dir)
        live.add(ws)
        return ws
    }

    /**
     * Resolves `rel` inside the workspace.
     *
     * @throws KeyfleetError `ACTION_PATH_ESCAPE` when `rel` leaves the workspace.
     */
    path(rel: string): string {
        const full = join(this.dir, rel)
        const back = relative(this.dir, full)
        if (back === '' || back.startsWith('..') || isAbsolute(back)) {
            throw new KeyfleetError('ACTION_PATH_ESCAPE', `refusing to write outside the action workspace: ${rel}`)
        }
        return full
    }

    /**
     * Writes `content` to `rel` with mode 0600, atomically: a temp file in the
     * same directory, then a rename, so no reader sees half a file and a
     * failure leaves no partial plaintext behind.
     *
     * @returns The absolute path written.
     */
    write(rel: string, content: string | Uint8Array): string {
        const target = this.path(rel)
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
        const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`
        try {
            writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' })
            renameSync(tmp, target)
        } catch (error) {
            rmSync(tmp, { force: true })
            throw new KeyfleetError('ACTION_WRITE_FAILED', `could not write ${rel} in the action workspace`, { cause: error instanceof Error ? error.name : undefined })
        }
        return target
    }

    /** Removes the directory and everything in it. Idempotent; never throws. */
    dispose(): void {
        if (this.disposed) return
        this.disposed = true
        live.delete(this)
        try {
            rmSync(this.dir, { recursive: true, force: true })
        } catch {
            // Nothing useful to do at exit; RUNNER_TEMP is wiped by the runner after the job.
        }
    }
}
