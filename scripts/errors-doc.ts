/**
 * Regenerates the table in docs/errors.md from the source: every stable error
 * code keyfleet throws, its CLI exit code and the message it carries (with `…`
 * where the message names a file, key or environment). Run it after adding a
 * code (`npm run build && node dist/scripts/errors-doc.js`);
 * test/errors-documented.test.ts fails until the doc lists it.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exitCodeFor } from '../src/cli/exit-codes.js'

const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : []
})

/** Where a code is first thrown, and the message template there. */
export interface CodeSite { readonly file: string; readonly message: string }

const CALL = /(?:KeyfleetError|fail|nativeError|loaderError)\(\s*'([A-Z][A-Z0-9]*_[A-Z0-9_]+|USAGE|INTERRUPTED)',\s*(?:[a-zA-Z_.]+,\s*)?(?:`((?:\\`|[^`])*)`|'((?:\\'|[^'])*)')/g
const DECLARED = /[:|]\s*'((?:LOADER|NATIVE|PROBE|ACTION)_[A-Z_]+)'/g

/** Every error code thrown under `root/src`, first site first. */
export const collectCodes = (root: string): Map<string, CodeSite> => {
    const codes = new Map<string, CodeSite>()
    for (const file of walk(join(root, 'src')).sort()) {
        const text = readFileSync(file, 'utf8')
        const rel = relative(root, file)
        for (const m of text.matchAll(CALL)) if (!codes.has(m[1] as string)) codes.set(m[1] as string, { file: rel, message: m[2] ?? m[3] ?? '' })
        for (const m of text.matchAll(DECLARED)) if (!codes.has(m[1] as string)) codes.set(m[1] as string, { file: rel, message: '' })
    }
    return codes
}

const clean = (message: string): string => message
    .replace(/\$\{[^}]*\}/g, '…').split('\\n')[0]!.replace(/\\`/g, '`').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim()

const exitColumn = (code: string): string => (/^(LOADER|ACTION)_/.test(code) ? '—' : String(exitCodeFor(code)))

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const root = join(fileURLToPath(import.meta.url), '..', '..', '..')
    const rows = [...collectCodes(root)].sort(([a], [b]) => a.localeCompare(b))
        .map(([code, site]) => `| \`${code}\` | ${exitColumn(code)} | \`${site.file}\` | ${clean(site.message) || 'see the module\'s docs page'} |`)
    const doc = join(root, 'docs', 'errors.md')
    const text = readFileSync(doc, 'utf8')
    const start = text.indexOf('<!-- codes:start -->')
    const end = text.indexOf('<!-- codes:end -->')
    writeFileSync(doc, `${text.slice(0, start)}<!-- codes:start -->\n| code | exit | thrown in | message (… = a name, path or count) |\n|---|---|---|---|\n${rows.join('\n')}\n${text.slice(end)}`)
    console.log(`docs/errors.md: ${rows.length} codes`)
}
