/**
 * The shell examples in the docs run as written. Every sh-fenced block of a page
 * runs, in order, in one bash process inside a throwaway copy of the
 * repository (built once here: `npm run build` lines are no-ops). A command
 * that fails fails the test, except where the doc says so with a
 * `# exit N` comment: that command must then exit with exactly N (a doc that
 * says "exit 1" about a command that succeeds is wrong too).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot, toolPath } from '../helpers/tools.js'

const pages = ['README.md', ...['authoring', 'repository', 'run', 'lifecycle', 'validation', 'change-report', 'render', 'deployment', 'live-check', 'loader', 'native-decryption', 'github-action', 'ci-setup', 'hosts'].map((p) => `docs/${p}.md`)]

it('every doc page with ```sh blocks is in the list', () => {
    const withShell = readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
        .filter((f) => shellOf(readFileSync(join(repoRoot, f), 'utf8')).trim() !== '')
    expect(withShell.filter((f) => !pages.includes(f))).toEqual([])
})

/** The sh-fenced blocks of a markdown page, each line annotated for expected exit codes. */
export const shellOf = (markdown: string): string => {
    const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string)
    return blocks.join('\n').split('\n').map((line) => {
        const expected = /^(.*?\S)\s+#\s*exit (\d+)\b/.exec(line)
        // `cmd && rc=0 || rc=$?` keeps a failing cmd from tripping the ERR trap; the status is then compared.
        return expected ? `${expected[1]} && __kf_rc=0 || __kf_rc=$?; __kf_expect $LINENO "$__kf_rc" ${expected[2]}` : line
    }).join('\n')
}

// Every copy links the one real install: no page reinstalls (`npm ci` is a no-op below and any other
// command that would change node_modules is refused), so nothing can reach it through the link, and no
// test copies or deletes 100+ MB (issue 13, finding 13: that cleanup outlived a 60 s hook on a busy machine).
const sharedModules = join(repoRoot, 'node_modules')

const copyRepo = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-docs-'))
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean)
    for (const file of files) {
        mkdirSync(dirname(join(dir, file)), { recursive: true })
        try { cpSync(join(repoRoot, file), join(dir, file)) } catch { /* deleted in the work tree */ }
    }
    cpSync(join(repoRoot, 'dist'), join(dir, 'dist'), { recursive: true })
    symlinkSync(sharedModules, join(dir, 'node_modules'))
    const git = (...args: string[]): void => { execFileSync('git', args, { cwd: dir, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'd', GIT_AUTHOR_EMAIL: 'd@d', GIT_COMMITTER_NAME: 'd', GIT_COMMITTER_EMAIL: 'd@d' } }) }
    git('init', '-q', '-b', 'main'); git('add', '-A'); git('commit', '-qm', 'docs'); git('commit', '-q', '--allow-empty', '-m', 'second')
    return dir
}

/** Runs a page's script in `dir` the way a reader would, after the harness's preamble; returns the DOCFAIL lines. */
const runScript = (dir: string, script: string): { failures: string[], stderr: string, signal: NodeJS.Signals | null } => {
    const preamble = [
        'set -o pipefail',
        'trap \'echo "DOCFAIL line $LINENO: $BASH_COMMAND" >&2\' ERR',
        '__kf_expect() { [ "$2" -eq "$3" ] || echo "DOCFAIL line $1: exit status $2, the doc says # exit $3" >&2; }',
        // The harness built once and links node_modules; `npm ci` / `npm test` are what CI
        // itself runs (and `npm test` is this suite), so those three are no-ops here.
        'npm() { case "$*" in "run build"|ci|"test") return 0 ;; install*|"i "*|i|add*|uninstall*|remove*|rm*|update*|up*|rebuild*|prune*|dedupe*|link*|"ci "*) echo "DOCFAIL line $LINENO: npm $1 would change the shared node_modules" >&2; return 1 ;; esac; command npm "$@"; }',
        // The pinned tools as CI has them (scripts/ensure-tools.sh); pages say where they come from.
        `export PATH="${dirname(toolPath('sops'))}:${dirname(toolPath('age'))}:$PATH"`,
        'unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE',
    ].join('\n')
    writeFileSync(join(dir, 'doc.sh'), `${preamble}\n${script}\n`)
    const run = spawnSync('bash', ['doc.sh'], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, HOME: dir } })
    const stderr = run.stderr ?? ''
    return { failures: stderr.split('\n').filter((l) => l.startsWith('DOCFAIL')), stderr, signal: run.signal }
}

// Each test removes its own copy (a few MB: sources and dist, node_modules is a link); this is the net for a test that threw first.
const scratch: string[] = []
afterAll(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
})

describe('the harness', () => {
    it('fails a failing command, and a `# exit N` that is not exactly N; passes the right N', () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-docs-self-'))
        scratch.push(dir)
        const run = runScript(dir, shellOf([
            '```sh', 'false', 'true   # exit 1', 'sh -c "exit 3"   # exit 2', 'sh -c "exit 3" | cat   # exit 3', 'printf "a\\n" \\', '  | grep -q b   # exit 1', '```',
        ].join('\n')))
        expect(run.failures).toEqual([
            'DOCFAIL line 7: false',
            'DOCFAIL line 8: exit status 0, the doc says # exit 1',
            'DOCFAIL line 9: exit status 3, the doc says # exit 2',
        ])
    })
})

describe('doc examples run as written', () => {
    for (const page of pages) {
        it(page, () => {
            const script = shellOf(readFileSync(join(repoRoot, page), 'utf8'))
            const dir = copyRepo()
            scratch.push(dir)
            const run = runScript(dir, script)
            rmSync(dir, { recursive: true, force: true })
            expect(run.failures, `${page}\n${run.stderr}`).toEqual([])
            expect(run.signal, `${page} did not finish`).toBeNull()
        }, 150_000)
    }
})
