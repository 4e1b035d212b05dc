/**
 * A private directory for the plaintext sops writes while `sops edit` runs (sops puts it in
 * os.MkdirTemp("", ""), i.e. $TMPDIR). keyfleet points sops' TMPDIR here so that plaintext lives
 * only in `<tmp>/keyfleet-<uid>/<pid>-<random>/` (0700, owned by us), removed when sops ends however it
 * ends, on keyfleet's exit (a signal handler's process.exit runs 'exit' listeners), and swept on the
 * next start when keyfleet itself was killed (SIGKILL runs no handler).
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KeyfleetError } from '../errors.js'

const live = new Set<string>()
let hooked = false

/** The per-user parent, created 0700 and checked: a real directory (not a link) that we own with no group/other access. */
export const privateTmpRoot = (base = tmpdir()): string => {
    const uid = process.getuid?.() ?? 0
    const root = join(base, `keyfleet-${uid}`)
    mkdirSync(root, { recursive: true, mode: 0o700 })
    const st = lstatSync(root)
    if (!st.isDirectory() || st.isSymbolicLink() || (process.getuid && st.uid !== uid) || (st.mode & 0o077) !== 0) {
        throw new KeyfleetError('PRIVATE_TMP_UNSAFE', `${root} is not a private directory (must be a directory you own with mode 0700); remove it and retry`, { file: root })
    }
    return root
}

const alive = (pid: number): boolean => {
    try { process.kill(pid, 0); return true } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM' }
}

/** Removes directories left by keyfleet processes that no longer run (killed with SIGKILL, power loss). */
export const sweepPrivateTmp = (root: string): string[] => {
    const swept: string[] = []
    for (const entry of readdirSync(root)) {
        const pid = Number(/^(\d+)-/.exec(entry)?.[1])
        if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue
        rmSync(join(root, entry), { recursive: true, force: true })
        swept.push(entry)
    }
    return swept
}

/**
 * Runs `use` with a fresh private directory and removes it afterwards, whatever happens.
 * @param base - parent of the per-user root (tests); default os.tmpdir().
 */
export const withPrivateTmp = async <T>(use: (dir: string) => Promise<T>, base?: string): Promise<T> => {
    const root = privateTmpRoot(base)
    sweepPrivateTmp(root)
    const dir = mkdtempSync(join(root, `${process.pid}-`))
    live.add(dir)
    if (!hooked) {
        hooked = true
        process.on('exit', () => { for (const d of live) rmSync(d, { recursive: true, force: true }) })
    }
    try {
        return await use(dir)
    } finally {
        rmSync(dir, { recursive: true, force: true })
        live.delete(dir)
    }
}
