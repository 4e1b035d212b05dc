/**
 * The git reads validation needs: tracked files, changed files, staged
 * content and old versions. Every call runs `git` (src/validate/git-run.ts) with
 * `cwd` = the repository root and never surfaces git's stdout in an error,
 * because the content of a file (possibly a leaked key) is stdout here.
 */
import { existsSync } from 'node:fs'
import { KeyfleetError } from '../errors.js'
import { batchRead } from './git-batch.js'
import { runGit } from './git-run.js'

/** Runs git and returns stdout as UTF-8 text, nothing stripped; maps failures to typed, content-free errors. */
const git = async (root: string, args: readonly string[], what: string): Promise<string> => {
    const result = await runGit(root, args)
    if (result.failed) {
        if (result.code === 'ENOENT') {
            // node reports a missing working directory as ENOENT too.
            if (!existsSync(root)) throw new KeyfleetError('GIT_FAILED', `git could not ${what}: ${root} does not exist`)
            throw new KeyfleetError('GIT_MISSING', 'git could not be run: install git and make sure it is on PATH')
        }
        // stderr of these read-only commands names refs and paths, never content; keep its first line.
        const reason = result.stderr.split('\n')[0]?.trim() ?? ''
        throw new KeyfleetError('GIT_FAILED', `git could not ${what}${reason ? ` (${reason})` : ''}: check the ref names and that ${root} is a git repository`)
    }
    return result.stdout.toString('utf8')
}

/** Whether HEAD names a commit (false in a repository without one); never throws. */
const hasHead = async (root: string): Promise<boolean> =>
    !(await runGit(root, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).failed

/** Splits NUL-separated `-z` output. */
const zList = (out: string): string[] => out.split('\0').filter((p) => p.length > 0)

/**
 * Whether `root` is inside a git work tree.
 * @returns false for a plain directory or when git is missing; never throws.
 */
export const isGitRepo = async (root: string): Promise<boolean> => {
    try {
        return (await git(root, ['rev-parse', '--is-inside-work-tree'], 'inspect the repository')).trim() === 'true'
    } catch {
        return false
    }
}

/**
 * Where `root` stands, in one git run: outside a work tree (or git missing: `none`), in a
 * repository whose HEAD has no commit yet (`unborn`), or at a commit (`commit`). Never throws.
 */
export const headState = async (root: string): Promise<'none' | 'unborn' | 'commit'> => {
    const run = await runGit(root, ['rev-parse', '--is-inside-work-tree', '--verify', '--quiet', 'HEAD^{commit}'])
    const [inside, commit] = run.stdout.toString('utf8').split('\n')
    if (inside?.trim() !== 'true') return 'none'
    return !run.failed && (commit?.trim() ?? '') !== '' ? 'commit' : 'unborn'
}

/**
 * Every tracked file (`git ls-files`), repository-relative with forward slashes.
 * @throws KeyfleetError `GIT_FAILED` / `GIT_MISSING`.
 */
export const trackedFiles = async (root: string): Promise<string[]> =>
    zList(await git(root, ['ls-files', '-z'], 'list tracked files'))

/**
 * Files added, copied, modified or renamed between `base` and `head`
 * (the merge base of the two, as a pull request sees it). Without `head`,
 * compares against the working tree and includes untracked, non-ignored files.
 * @throws KeyfleetError `GIT_FAILED` when a ref does not exist.
 */
/** Git's empty tree: the base of a repository with no commit yet (everything in it is new). */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

export const changedFiles = async (root: string, base: string, head?: string): Promise<string[]> => {
    if (head !== undefined) {
        return zList(await git(root, ['diff', '--name-only', '-z', '--diff-filter=ACMR', `${base}...${head}`, '--'], `compare ${base} with ${head}`))
    }
    // Diff from the merge base, as a pull request does, so commits that landed on base since are not counted.
    // The merge base of HEAD with itself is HEAD: `keyfleet validate` compares with HEAD directly, and
    // resolves it only to name the problem when that fails (a repository without a commit).
    let from = base
    if (base !== EMPTY_TREE && base !== 'HEAD') {
        await resolveRef(root, base)
        from = (await runGit(root, ['merge-base', base, 'HEAD'])).stdout.toString('utf8').trim() || base
    }
    // Two independent reads, side by side; a failure of the diff is reported first, as when they ran in turn.
    const [changed, untracked] = await Promise.allSettled([
        git(root, ['diff', '--name-only', '-z', '--diff-filter=ACMR', from, '--'], `compare ${base} with the working tree`),
        git(root, ['ls-files', '-z', '--others', '--exclude-standard'], 'list untracked files'),
    ])
    if (changed.status === 'rejected') {
        if (base === 'HEAD') await resolveRef(root, base)
        throw changed.reason
    }
    if (untracked.status === 'rejected') throw untracked.reason
    return [...new Set([...zList(changed.value), ...zList(untracked.value)])]
}

/**
 * Files staged for the next commit (added, copied, modified, renamed).
 * @throws KeyfleetError `GIT_FAILED`.
 */
export const stagedFiles = async (root: string): Promise<string[]> =>
    zList(await git(root, ['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMR', '--'], 'list staged files'))

/**
 * Content of `path` at `ref` (`git show <ref>:<path>`); `ref` '' reads the
 * index (staged content). Returns undefined when the path does not exist
 * there, so callers can tell "added" from "changed".
 * @throws KeyfleetError `GIT_FAILED` when `ref` itself does not exist.
 */
export const showFile = async (root: string, ref: string, path: string): Promise<Buffer | undefined> => {
    const spec = `${ref}:${path}`
    // One shared `git cat-file --batch` answers most reads (git-batch.ts); for a blob `git show` prints the
    // same bytes (it applies textconv only when asked on its command line). A tree, or a batch that cannot
    // answer, takes the two-process path below.
    const batched = await batchRead(root, spec).catch(() => undefined)
    if (batched === 'missing') {
        if (ref !== '') await resolveRef(root, ref)
        return undefined
    }
    if (batched?.type === 'blob') return batched.content
    const exists = await runGit(root, ['cat-file', '-e', spec])
    if (exists.failed) {
        if (ref !== '') await resolveRef(root, ref)
        return undefined
    }
    const result = await runGit(root, ['show', spec])
    if (result.failed) throw new KeyfleetError('GIT_FAILED', `git could not read ${path} at ${ref || 'the index'}`)
    return result.stdout
}

/**
 * Files under `dir` at `ref` (`git ls-tree -r`).
 * @throws KeyfleetError `GIT_FAILED` when `ref` does not exist.
 */
export const filesAtRef = async (root: string, ref: string, dir: string): Promise<string[]> =>
    zList(await git(root, ['ls-tree', '-r', '-z', '--name-only', ref, '--', dir], `list ${dir} at ${ref}`))

/**
 * The commit id `ref` names.
 * @throws KeyfleetError `GIT_FAILED` naming the ref when it does not exist.
 */
export const resolveRef = async (root: string, ref: string): Promise<string> =>
    (await git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], `find the revision "${ref}"`)).trim()

/**
 * The directory git runs hooks from (honours `core.hooksPath`), absolute.
 * @throws KeyfleetError `GIT_FAILED` outside a repository.
 */
export const hooksDir = async (root: string): Promise<string> => {
    const out = (await git(root, ['rev-parse', '--path-format=absolute', '--git-path', 'hooks'], 'find the hooks directory')).trim()
    return out
}

/**
 * The git blob id of the working-tree file `path` (`git hash-object`), as it
 * would be stored if committed; `path` is relative to `root`.
 * @throws KeyfleetError `GIT_FAILED` when the file cannot be read.
 */
export const blobIdOf = async (root: string, path: string): Promise<string> =>
    (await git(root, ['hash-object', '--', path], `hash ${path}`)).trim()

/**
 * Commits reachable from HEAD that deleted the blob `blob` under `dir`
 * (`git log --diff-filter=D --find-object`), newest first. A repository
 * without commits has no history: returns [].
 * @throws KeyfleetError `GIT_FAILED` / `GIT_MISSING`.
 */
export const commitsDeletingBlob = async (root: string, blob: string, dir: string): Promise<string[]> => {
    if (!(await hasHead(root))) return []
    const out = await git(root, ['log', '--format=%H', '--diff-filter=D', `--find-object=${blob}`, 'HEAD', '--', dir], `search the history of ${dir}`)
    return out.split('\n').map((l) => l.trim()).filter((l) => l.length > 0)
}

/** A blob some commit deleted: the deleting commit and the blob id the path had before. */
export interface DeletedBlob {
    readonly commit: string
    readonly blob: string
}

/**
 * Every blob a commit reachable from HEAD deleted under `dir`
 * (`git log --diff-filter=D --raw`), newest first. No commits: [].
 * @throws KeyfleetError `GIT_FAILED` / `GIT_MISSING`.
 */
export const deletedBlobsUnder = async (root: string, dir: string): Promise<DeletedBlob[]> => {
    if (!(await hasHead(root))) return []
    // -m: a merge that deletes a proposal is listed too (against each parent).
    const out = await git(root, ['log', '-m', '--no-renames', '--format=commit %H', '--raw', '--no-abbrev', '--diff-filter=D', 'HEAD', '--', dir], `search the history of ${dir}`)
    const found: DeletedBlob[] = []
    let commit = ''
    for (const line of out.split('\n')) {
        if (line.startsWith('commit ')) commit = line.slice(7).trim()
        // ":100644 000000 <old blob> 0000… D\t<path>"
        const raw = /^:\d+ \d+ ([0-9a-f]{40,64}) [0-9a-f]+ D\t/.exec(line)
        if (raw?.[1] !== undefined && commit !== '') found.push({ commit, blob: raw[1] })
    }
    return found
}

/**
 * The content of blob `blob` (`git cat-file blob`).
 * @throws KeyfleetError `GIT_FAILED` when it does not exist.
 */
export const readBlob = async (root: string, blob: string): Promise<Buffer> => {
    const result = await runGit(root, ['cat-file', 'blob', blob], 64 * 1024 * 1024)
    if (result.failed) throw new KeyfleetError('GIT_FAILED', `git could not read blob ${blob.slice(0, 12)}`)
    return result.stdout
}

/**
 * Committer time (ISO 8601) of the newest commit reachable from HEAD whose
 * diff of `path` adds or removes a line starting with `NAME=` (`git log -G`):
 * when the dotenv key `name` last changed. undefined when it never did.
 * `name` must be a plain key name (letters, digits, `_`).
 * @throws KeyfleetError `GIT_FAILED` / `GIT_MISSING`.
 */
export const lastLineChange = async (root: string, path: string, name: string): Promise<{ commit: string; time: string } | undefined> => {
    if (!/^[A-Za-z0-9_]+$/.test(name)) return undefined
    if (!(await hasHead(root))) return undefined
    const out = (await git(root, ['log', '-1', '--format=%H %cI', `-G^${name}=`, 'HEAD', '--', path], `search the history of ${path}`)).trim()
    const [commit, time] = out.split(' ')
    return commit && time ? { commit, time } : undefined
}
