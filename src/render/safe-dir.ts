/**
 * The render output directory holds plaintext Secrets, so nothing in it may
 * redirect a write or a delete: the directory must be a real directory (not
 * a link) that the user owns with no access for group or others (0700), and
 * no path inside it is followed through a symbolic link. Once the directory
 * is private, nobody else can plant a link between the check and the write;
 * links already there (a checkout, a copied tree) are refused up front.
 */
import { lstat, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { KeyfleetError } from '../errors.js'

const unsafe = (message: string): KeyfleetError => new KeyfleetError('RENDER_OUT_DIR_UNSAFE', message)

const lstatOrUndefined = async (path: string) => {
    try {
        return await lstat(path)
    } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw cause
    }
}

/**
 * Creates `dir` with mode 0700 when it is missing (its parents as needed),
 * then checks it: a directory, not a symbolic link, owned by this user, mode
 * without group/other bits.
 * @throws KeyfleetError `RENDER_OUT_DIR_UNSAFE` saying how to fix it; nothing is written.
 */
export const prepareOutputDir = async (dir: string): Promise<void> => {
    let st = await lstatOrUndefined(dir)
    if (st === undefined) {
        await mkdir(dirname(dir), { recursive: true, mode: 0o700 })
        // Not recursive: the last component is created here, 0700, or the lstat below sees what took its place.
        await mkdir(dir, { mode: 0o700 }).catch((cause: NodeJS.ErrnoException) => { if (cause.code !== 'EEXIST') throw cause })
        st = await lstat(dir)
    }
    if (st.isSymbolicLink()) throw unsafe(`${dir} is a symbolic link; refusing to render through it. Give --out a real directory (e.g. a new one under $(mktemp -d))`)
    if (!st.isDirectory()) throw unsafe(`${dir} exists and is not a directory; give --out a new or empty directory`)
    const uid = process.getuid?.()
    if (uid !== undefined && st.uid !== uid) throw unsafe(`${dir} is owned by uid ${st.uid}, not by you (uid ${uid}); render into a directory you own, e.g. a new one under $(mktemp -d)`)
    if ((st.mode & 0o077) !== 0) throw unsafe(`${dir} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: others could read the rendered Secrets or plant links in it. Run \`chmod 700 ${dir}\` (after checking what it holds) or render into a new directory`)
}

/**
 * Refuses when any existing component of `relative` under `dir` (the file
 * itself included) is a symbolic link, so a write or delete there cannot land
 * outside `dir`. Missing components are fine (they will be created 0700).
 * @throws KeyfleetError `RENDER_SYMLINK`
 */
export const assertNoLinks = async (dir: string, relative: string): Promise<void> => {
    let current = dir
    for (const part of relative.split('/')) {
        current = join(current, part)
        const st = await lstatOrUndefined(current)
        if (st === undefined) return
        if (st.isSymbolicLink()) {
            throw new KeyfleetError('RENDER_SYMLINK', `${current} is a symbolic link; keyfleet never writes or deletes through links in the output directory. Remove the link (it was not created by keyfleet) and render again; nothing was changed`)
        }
    }
}

/** Creates each missing directory of `relative`'s parent under `dir`, mode 0700, one level at a time (never through a link). */
export const mkdirInside = async (dir: string, relative: string): Promise<void> => {
    let current = dir
    for (const part of relative.split('/').slice(0, -1)) {
        current = join(current, part)
        await mkdir(current, { mode: 0o700 }).catch((cause: NodeJS.ErrnoException) => { if (cause.code !== 'EEXIST') throw cause })
        const st = await lstat(current)
        if (st.isSymbolicLink()) throw new KeyfleetError('RENDER_SYMLINK', `${current} is a symbolic link; keyfleet never writes through links in the output directory. Remove it and render again`)
    }
}
