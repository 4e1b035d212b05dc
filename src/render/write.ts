/**
 * Puts a {@link RenderOutput} on disk: each file written atomically (temp file
 * in the same directory, then rename) with its mode, stale files of an earlier
 * render of the same environment removed, nothing half-written left behind,
 * and nothing written or deleted through a symbolic link (src/render/safe-dir.ts).
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, open, readdir, rename, rm, rmdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { KeyfleetError } from '../errors.js'
import { assertNoLinks, mkdirInside, prepareOutputDir } from './safe-dir.js'
import type { RenderOutput } from './types.js'

/** The file that records what a render wrote, so the next render can remove what is stale. */
export const RENDER_MANIFEST = '.keyfleet-render.json'

interface RenderManifest { keyfleet: 'render/v1'; environment: string; files: string[] }

// Relative, forward slashes, no `.`/`..` segments, no hidden manifest overwrite: a path can never escape the directory.
const SAFE_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/

const assertSafe = (path: string): void => {
    if (!SAFE_PATH.test(path) || path.split('/').some((p) => p === '..' || p === '.')) {
        throw new KeyfleetError('RENDER_BAD_PATH', `refusing to write "${path}": render paths must be relative and stay inside the output directory`)
    }
}

const readManifest = async (dir: string): Promise<RenderManifest | undefined> => {
    let text: string
    try {
        // O_NOFOLLOW: a manifest planted as a link is refused, not read (ELOOP below).
        const handle = await open(join(dir, RENDER_MANIFEST), constants.O_RDONLY | constants.O_NOFOLLOW)
        try { text = await handle.readFile('utf8') } finally { await handle.close() }
    } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw new KeyfleetError('RENDER_SYMLINK', `${join(dir, RENDER_MANIFEST)} cannot be read as a plain file (${(cause as NodeJS.ErrnoException).code ?? 'error'}); remove it and render again`)
    }
    try {
        const parsed = JSON.parse(text) as RenderManifest
        if (parsed.keyfleet === 'render/v1' && typeof parsed.environment === 'string' && Array.isArray(parsed.files)) return parsed
    } catch { /* fall through */ }
    throw new KeyfleetError('RENDER_OUT_DIR_CORRUPT', `${join(dir, RENDER_MANIFEST)} is not a keyfleet render record; delete the output directory and render again`)
}

/** Writes one file atomically: create a private temp file beside it, write, fsync, chmod, rename. */
const writeAtomic = async (path: string, content: string | Uint8Array, mode: number, temps: Set<string>): Promise<void> => {
    const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.keyfleet-tmp`)
    temps.add(temp)
    // Exclusive, no-follow, mode 0600 at creation: the plaintext is never readable by others, not even briefly.
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
        await handle.writeFile(content)
        await handle.sync()
    } finally {
        await handle.close()
    }
    await chmod(temp, mode)
    await rename(temp, path)
    temps.delete(temp)
}

const removeEmptyDirs = async (dir: string, relative: string): Promise<void> => {
    // Walk up from the file's directory, removing each directory that became empty.
    for (let current = dirname(relative); current !== '.' && current !== ''; current = dirname(current)) {
        const abs = join(dir, current)
        const left = await readdir(abs).catch(() => undefined)
        if (left === undefined || left.length > 0) return
        await rmdir(abs).catch(() => undefined)
    }
}

/**
 * Writes `out` into `dir` (created 0700 when missing; an existing one must be
 * a real directory the user owns with mode 0700). Files of an earlier
 * render of the same environment that this render no longer produces are
 * removed; files keyfleet did not write are left alone.
 * @throws KeyfleetError `RENDER_OUT_DIR_IN_USE` when `dir` holds a render of
 *   another environment, `RENDER_OUT_DIR_UNSAFE` (a link, not owned, or open
 *   to group/others), `RENDER_SYMLINK` (a link inside it; nothing written),
 *   `RENDER_OUT_DIR_CORRUPT`, `RENDER_BAD_PATH`, or
 *   `RENDER_WRITE_FAILED` (with every temp file removed).
 */
export const writeRenderOutput = async (out: RenderOutput, dir: string): Promise<void> => {
    for (const file of out.files) assertSafe(file.path)
    await prepareOutputDir(dir)
    const previous = await readManifest(dir)
    if (previous && previous.environment !== out.environment) {
        throw new KeyfleetError('RENDER_OUT_DIR_IN_USE', `${dir} holds the render of environment ${previous.environment}; render ${out.environment} into its own directory`)
    }
    const now = new Set(out.files.map((f) => f.path))
    const stales = (previous?.files ?? []).filter((stale) => !now.has(stale) && SAFE_PATH.test(stale) && !stale.split('/').includes('..'))
    // Every path is checked before anything is written, so a planted link refuses the whole render and changes nothing.
    for (const path of [...now, ...stales, RENDER_MANIFEST]) await assertNoLinks(dir, path)
    const temps = new Set<string>()
    try {
        for (const file of out.files) {
            await mkdirInside(dir, file.path)
            await writeAtomic(join(dir, ...file.path.split('/')), file.content, file.mode, temps)
        }
        for (const stale of stales) {
            await rm(join(dir, ...stale.split('/')), { force: true })
            await removeEmptyDirs(dir, stale)
        }
        const manifest: RenderManifest = { keyfleet: 'render/v1', environment: out.environment, files: [...now].sort() }
        await writeAtomic(join(dir, RENDER_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, 0o644, temps)
    } catch (cause) {
        await Promise.all([...temps].map((t) => rm(t, { force: true })))
        if (cause instanceof KeyfleetError) throw cause
        const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'unknown'
        throw new KeyfleetError('RENDER_WRITE_FAILED', `cannot write the render into ${dir} (${code}); check that the directory is writable and has space, then render again`, { cause: code })
    }
}

