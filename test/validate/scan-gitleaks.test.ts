/**
 * `keyfleet scan` side by side with gitleaks 8.30 (issue 13, finding 8), the
 * oracle we did not write: the seeded planted-keys generator writes one key
 * per file (7 families × 8 file types × 2), `keyfleet scan FILE...` and
 * `gitleaks dir` read the same tree, and keyfleet must find every key
 * gitleaks finds, and every planted key besides. Then both read this
 * repository's tracked files: keyfleet must find nothing there (the
 * published demo identities are allowed by fingerprint, scan-rules.ts).
 * The table is printed (docs/validation.md shows one run of it).
 *
 * gitleaks comes from `bash scripts/ensure-tools.sh --with-gitleaks`; when it
 * is missing this file fails if KEYFLEET_REQUIRE_GITLEAKS=1 (.ci/run sets it)
 * and otherwise skips with a loud message.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { repoRoot } from '../helpers/tools.js'
import { cli } from './cli-io.js'
import { plantKeys, plantSeed, type Planted } from './planted-keys.js'

const GITLEAKS_VERSION = 'v8.30.1'
const seed = plantSeed()
console.log(`scan-gitleaks seed ${seed} (KEYFLEET_SEED=${seed} to rerun)`)

const exec = (file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
    execFile(file, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 127, stdout, stderr })
    })
})

const gitleaksPath = join(process.env.KEYFLEET_TOOLS_DIR ?? join(repoRoot, '.tools', 'bin'), 'gitleaks')
const gitleaksReady = async (): Promise<boolean> => {
    const v = await exec(gitleaksPath, ['--version'], repoRoot)
    if (v.stdout.trim() === `gitleaks version ${GITLEAKS_VERSION}`) return true
    const message = `scan-gitleaks needs gitleaks ${GITLEAKS_VERSION} at ${gitleaksPath}: run bash scripts/ensure-tools.sh --with-gitleaks`
    if (process.env.KEYFLEET_REQUIRE_GITLEAKS === '1') throw new Error(`${message} (KEYFLEET_REQUIRE_GITLEAKS=1: not skipped)`)
    console.warn(`\n*** SKIPPED: ${message} ***\n`)
    return false
}

interface Leak { readonly RuleID: string; readonly File: string; readonly Secret: string; readonly StartLine: number }

/** gitleaks' findings on `dir` (its default rules, no git history), file paths relative to `dir`. */
const gitleaks = async (dir: string): Promise<Leak[]> => {
    const report = join(mkdtempSync(join(tmpdir(), 'kf-gitleaks-')), 'report.json')
    const r = await exec(gitleaksPath, ['dir', '.', '--no-banner', '--log-level', 'error', '--report-format', 'json', '--report-path', report, '--exit-code', '0'], dir)
    expect(r.code, r.stderr).toBe(0)
    const leaks = JSON.parse(readFileSync(report, 'utf8')) as Leak[]
    rmSync(dirname(report), { recursive: true, force: true })
    return leaks.map((l) => ({ ...l, File: l.File.replace(/^\.\//, '') }))
}

interface Row { family: string; planted: number; keyfleet: number; gitleaks: number; gitleaksOnly: number; rules: Set<string> }

const table = (rows: Row[]): string => {
    const total = rows.reduce((t, r) => ({ ...t, planted: t.planted + r.planted, keyfleet: t.keyfleet + r.keyfleet, gitleaks: t.gitleaks + r.gitleaks, gitleaksOnly: t.gitleaksOnly + r.gitleaksOnly }), { family: '**all**', planted: 0, keyfleet: 0, gitleaks: 0, gitleaksOnly: 0, rules: new Set<string>() })
    return ['| family | planted | keyfleet found | gitleaks found | found by gitleaks only | gitleaks rules that hit |', '| --- | ---: | ---: | ---: | ---: | --- |',
        ...[...rows, total].map((r) => `| ${r.family} | ${r.planted} | ${r.keyfleet} | ${r.gitleaks} | ${r.gitleaksOnly} | ${[...r.rules].sort().join(', ')} |`)].join('\n')
}

let ready = false
let dir = ''
beforeAll(async () => {
    ready = await gitleaksReady()
    dir = mkdtempSync(join(tmpdir(), 'kf-planted-'))
})
afterAll(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })

describe('keyfleet scan side by side with gitleaks', () => {
    test('finds every planted key gitleaks finds, and every planted key', async (ctx) => {
        if (!ready) { ctx.skip(); return }
        const planted = plantKeys(seed)
        const files = new Map<string, Planted>()
        planted.forEach((p, i) => {
            const file = `k${String(i).padStart(3, '0')}${p.ext}`
            writeFileSync(join(dir, file), p.text)
            files.set(file, p)
        })
        const kf = await cli(['scan', '--json', ...files.keys()], dir)
        expect(kf.code, kf.stderr).toBe(1)
        const kfFindings = (JSON.parse(kf.stdout) as { findings: { file: string; line?: number }[] }).findings
        const leaks = await gitleaks(dir)

        const rows = new Map<string, Row>()
        const keyfleetMissed: string[] = []
        const gitleaksOnly: string[] = []
        for (const [file, p] of files) {
            const row = rows.get(p.family) ?? { family: p.family, planted: 0, keyfleet: 0, gitleaks: 0, gitleaksOnly: 0, rules: new Set<string>() }
            rows.set(p.family, row)
            row.planted++
            const keyLine = p.text.split('\n').findIndex((l) => l.includes(p.value)) + 1
            const byKeyfleet = kfFindings.filter((f) => f.file === file)
            // One finding, on the key's line: a second one would be a false positive.
            const kfFound = byKeyfleet.length === 1 && byKeyfleet[0]?.line === keyLine
            // gitleaks counts when a finding captured the key or a part of it.
            const hits = leaks.filter((l) => l.File === file && l.Secret.length >= 8 && (p.value.includes(l.Secret) || l.Secret.includes(p.value)))
            for (const h of hits) row.rules.add(h.RuleID)
            if (kfFound) row.keyfleet++
            else keyfleetMissed.push(`${file} (${p.family} ${p.name}): ${byKeyfleet.length} findings`)
            if (hits.length > 0) row.gitleaks++
            if (hits.length > 0 && !kfFound) { row.gitleaksOnly++; gitleaksOnly.push(file) }
        }
        const rendered = table([...rows.values()])
        console.log(`keyfleet scan vs gitleaks ${GITLEAKS_VERSION}, seed ${seed}:\n${rendered}`)
        expect(gitleaksOnly, `seed ${seed}`).toEqual([])
        expect(keyfleetMissed, `seed ${seed}`).toEqual([])
        expect(kfFindings).toHaveLength(planted.length)
        // The comparison means something only if gitleaks found a good part of them.
        expect(leaks.length).toBeGreaterThan(planted.length / 2)
    }, 180_000)

    test('this repository: keyfleet finds nothing in the tracked files (gitleaks\' count printed)', async (ctx) => {
        if (!ready) { ctx.skip(); return }
        const kf = await cli(['scan', '--all', '--json'], repoRoot)
        expect(kf.code, kf.stdout + kf.stderr).toBe(0)
        expect((JSON.parse(kf.stdout) as { findings: unknown[] }).findings).toEqual([])

        const tracked = (await exec('git', ['ls-files', '-z'], repoRoot)).stdout.split('\0').filter((f) => f !== '')
        const copy = join(dir, 'repo')
        for (const f of tracked) {
            const st = lstatSync(join(repoRoot, f), { throwIfNoEntry: false })
            if (st?.isFile() !== true) continue
            mkdirSync(dirname(join(copy, f)), { recursive: true })
            copyFileSync(join(repoRoot, f), join(copy, f))
        }
        const leaks = await gitleaks(copy)
        const byRule = new Map<string, number>()
        for (const l of leaks) byRule.set(l.RuleID, (byRule.get(l.RuleID) ?? 0) + 1)
        console.log(`this repository's ${tracked.length} tracked files: keyfleet 0 findings, gitleaks ${leaks.length} (${[...byRule].map(([r, n]) => `${r} ${n}`).join(', ')})`)
    }, 180_000)
})
