/**
 * The published package installs alone (issue 15): `npm pack` the built package, install the
 * tarball in an empty directory with `--omit=dev` as an agent's project would, and check what
 * came with it. The loader's runtime needs age-encryption (and its `@noble/@scure` parts), yaml and
 * re2js; the CLI is a self-contained bundle, so execa, `@actions/core` and kubernetes-models must not
 * be installed. Every export is imported from the installed copy and the bin answers `--help`.
 * Needs `npm run build` first (npm test does it); uses the local npm cache first (--prefer-offline).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/tools.js'

/** What installing the tarball may bring besides keyfleet itself: the loader's dependencies. */
const ALLOWED = new Set(['age-encryption', '@noble/ciphers', '@noble/curves', '@noble/hashes', '@noble/post-quantum', '@scure/base', 'yaml', 're2js'])
const FORBIDDEN = ['execa', '@actions/core', 'kubernetes-models']

/** Installed packages: every directory with a package.json directly under a node_modules (scopes included). */
const installedPackages = (nodeModules: string): string[] => {
    const found: string[] = []
    const visit = (dir: string): void => {
        if (!existsSync(dir)) return
        for (const entry of readdirSync(dir)) {
            if (entry.startsWith('.')) continue
            const names = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((n) => `${entry}/${n}`) : [entry]
            for (const name of names) {
                const path = join(dir, name)
                if (!existsSync(join(path, 'package.json'))) continue
                found.push(name)
                visit(join(path, 'node_modules'))
            }
        }
    }
    visit(nodeModules)
    return found.sort()
}

const bytesUnder = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0)

const npm = (args: string[], cwd: string): string =>
    execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } })

describe('npm pack + npm install --omit=dev', () => {
    let dir = ''
    let consumer = ''
    beforeAll(() => {
        if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js')) || !existsSync(join(repoRoot, 'dist', 'src', 'index.js'))) {
            throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
        }
        dir = mkdtempSync(join(tmpdir(), 'keyfleet-pack-'))
        const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], repoRoot)) as { filename: string }[]
        if (!packed) throw new Error('npm pack reported no tarball')
        consumer = join(dir, 'consumer')
        execFileSync('mkdir', [consumer])
        writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n')
        npm(['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)], consumer)
    }, 180_000)
    afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }) })

    it('brings only the loader\'s dependencies (counted and weighed)', () => {
        const nodeModules = join(consumer, 'node_modules')
        const packages = installedPackages(nodeModules)
        const others = packages.filter((name) => name !== 'keyfleet')
        console.log(`installed ${packages.length} packages, ${(bytesUnder(nodeModules) / 2 ** 20).toFixed(1)} MiB: ${packages.join(', ')}`)
        expect(packages).toContain('keyfleet')
        for (const name of FORBIDDEN) expect(packages).not.toContain(name)
        expect(others.filter((name) => !ALLOWED.has(name))).toEqual([])
    })

    it('imports every export of the installed package', () => {
        const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules', 'keyfleet', 'package.json'), 'utf8')) as { exports: Record<string, string> }
        const subpaths = Object.keys(manifest.exports)
        expect(subpaths).toEqual(['.', './loader', './package.json'])
        const script = [
            "const main = await import('keyfleet')",
            "const loader = await import('keyfleet/loader')",
            "const pkg = await import('keyfleet/package.json', { with: { type: 'json' } })",
            "if (typeof main.openKeys !== 'function' || main.openKeys !== loader.openKeys) throw new Error('keyfleet does not export the loader')",
            "if (typeof main.KeyfleetError !== 'function') throw new Error('no KeyfleetError')",
            "console.log(JSON.stringify({ main: Object.keys(main).sort(), loader: Object.keys(loader).sort(), name: pkg.default.name }))",
        ].join('\n')
        const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer, encoding: 'utf8' })
        const parsed = JSON.parse(out) as { main: string[]; loader: string[]; name: string }
        expect(parsed.name).toBe('keyfleet')
        expect(parsed.main).toEqual(parsed.loader)
        expect(parsed.main).toContain('openKeys')
    })

    it('runs the keyfleet bin without the CLI\'s dependencies installed', () => {
        const bin = join(consumer, 'node_modules', '.bin', 'keyfleet')
        const help = execFileSync(bin, ['--help'], { cwd: consumer, encoding: 'utf8' })
        expect(help).toContain('Usage: keyfleet <command>')
        // A command that needs execa (through sops/) and one that needs kubernetes-models (render/).
        expect(execFileSync(bin, ['validate', '--help'], { cwd: consumer, encoding: 'utf8' })).toContain('Usage: keyfleet validate')
        expect(execFileSync(bin, ['render', '--help'], { cwd: consumer, encoding: 'utf8' })).toContain('Usage: keyfleet render')
    })
})
