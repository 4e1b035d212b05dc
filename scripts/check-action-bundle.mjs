#!/usr/bin/env node
// Rebuilds the action bundle from src/ into a temporary directory and
// compares it byte for byte with the committed one; exits 1 and names each
// differing, missing or extra file. The required PR job "Action bundle
// matches its source" (pr.yml) and test/action/bundle.test.ts run it.
//
//   node scripts/check-action-bundle.mjs              # .github/actions/keyfleet/dist
//   node scripts/check-action-bundle.mjs --dist DIR   # another committed copy
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const at = process.argv.indexOf('--dist')
const dist = at > 0 ? resolve(process.argv[at + 1] ?? '') : join(root, '.github', 'actions', 'keyfleet', 'dist')
const scratch = mkdtempSync(join(tmpdir(), 'kf-bundle-check-'))
const problems = []
try {
    execFileSync(process.execPath, [join(root, 'scripts', 'build-action.mjs'), '--out', scratch], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
    const list = (dir) => { try { return readdirSync(dir).sort() } catch { return [] } }
    const fresh = list(scratch)
    const committed = list(dist)
    for (const f of committed) if (!fresh.includes(f)) problems.push(`${f}: committed but not produced by the build`)
    for (const f of fresh) {
        if (!committed.includes(f)) problems.push(`${f}: produced by the build but not committed`)
        else if (!readFileSync(join(scratch, f)).equals(readFileSync(join(dist, f)))) problems.push(`${f}: differs from a rebuild of the source`)
    }
} finally {
    rmSync(scratch, { recursive: true, force: true })
}
if (problems.length > 0) {
    for (const p of problems) console.log(`::error title=keyfleet action bundle::${p}`)
    console.log('The committed action bundle is not what src/ builds to: run `npm run build:action` and commit .github/actions/keyfleet/dist.')
    process.exit(1)
}
console.log('the action bundle matches a rebuild of its source, byte for byte.')
