/**
 * The shell examples in the docs run as written. Every ```sh block of a page
 * runs, in order, in one bash process inside a throwaway copy of the
 * repository (built once here: `npm run build` lines are no-ops). A command
 * that fails fails the test, except where the doc says so with a
 * `# exit N` comment, which is then checked.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { repoRoot, toolPath } from '../helpers/tools.js'

const pages = ['README.md', ...['authoring', 'repository', 'lifecycle', 'validation', 'change-report', 'render', 'deployment', 'live-check', 'loader', 'native-decryption'].map((p) => `docs/${p}.md`)]

/** The ```sh blocks of a markdown page, each line annotated for expected exit codes. */
export const shellOf = (markdown: string): string => {
    const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string)
    return blocks.join('\n').split('\n').map((line) => {
        const expected = /^(.*?\S)\s+#\s*exit (\d+)\b/.exec(line)
        return expected ? `${expected[1]} || [ $? -eq ${expected[2]} ]` : line
    }).join('\n')
}

// One private copy of node_modules per run: a doc command that reinstalls
// (npm ci) must never reach the real one through a link.
let modules: string | undefined
const privateModules = (): string => {
    if (!modules) {
        modules = join(mkdtempSync(join(tmpdir(), 'keyfleet-docs-modules-')), 'node_modules')
        cpSync(join(repoRoot, 'node_modules'), modules, { recursive: true, verbatimSymlinks: true })
    }
    return modules
}

const copyRepo = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-docs-'))
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean)
    for (const file of files) {
        mkdirSync(dirname(join(dir, file)), { recursive: true })
        try { cpSync(join(repoRoot, file), join(dir, file)) } catch { /* deleted in the work tree */ }
    }
    cpSync(join(repoRoot, 'dist'), join(dir, 'dist'), { recursive: true })
    symlinkSync(privateModules(), join(dir, 'node_modules'))
    const git = (...args: string[]): void => { execFileSync('git', args, { cwd: dir, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'd', GIT_AUTHOR_EMAIL: 'd@d', GIT_COMMITTER_NAME: 'd', GIT_COMMITTER_EMAIL: 'd@d' } }) }
    git('init', '-q', '-b', 'main'); git('add', '-A'); git('commit', '-qm', 'docs'); git('commit', '-q', '--allow-empty', '-m', 'second')
    return dir
}

describe('doc examples run as written', () => {
    for (const page of pages) {
        it(page, () => {
            const script = shellOf(readFileSync(join(repoRoot, page), 'utf8'))
            const dir = copyRepo()
            const preamble = [
                'set -o pipefail',
                'trap \'echo "DOCFAIL line $LINENO: $BASH_COMMAND" >&2\' ERR',
                // The harness built once and links node_modules; `npm ci` / `npm test` are what CI
                // itself runs (and `npm test` is this suite), so those three are no-ops here.
                'npm() { case "$*" in "run build"|ci|"test") return 0 ;; esac; command npm "$@"; }',
                `export PATH="${dirname(toolPath('sops'))}:$PATH"`,
                'unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE',
            ].join('\n')
            writeFileSync(join(dir, 'doc.sh'), `${preamble}\n${script}\n`)
            const run = spawnSync('bash', ['doc.sh'], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, HOME: dir } })
            const failures = (run.stderr ?? '').split('\n').filter((l) => l.startsWith('DOCFAIL'))
            expect(failures, `${page}\n${run.stderr}`).toEqual([])
            expect(run.signal, `${page} did not finish`).toBeNull()
        }, 150_000)
    }
})
