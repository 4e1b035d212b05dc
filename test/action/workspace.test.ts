import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Workspace } from '../../src/action/workspace.js'
import { isKeyfleetError } from '../../src/errors.js'
import { repoRoot } from '../helpers/tools.js'

let scratch: string
let runnerTemp: string
let bundled: string

beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'kf-ws-'))
    bundled = join(scratch, 'workspace.mjs')
    // The exit and signal paths need a real process: bundle the module for a child.
    await build({ entryPoints: [join(repoRoot, 'src/action/workspace.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundled, logLevel: 'silent' })
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const freshTemp = (): string => (runnerTemp = mkdtempSync(join(scratch, 'runner-temp-')))

/** Runs a child that creates a workspace, writes a file, then does `ending`. */
const child = (ending: string): Promise<{ code: number | null; signal: string | null; ready: string }> =>
    new Promise((resolve) => {
        const script = join(scratch, `child-${Math.random().toString(36).slice(2)}.mjs`)
        writeFileSync(script, [
            `import { Workspace } from ${JSON.stringify(bundled)}`,
            `const ws = Workspace.create(${JSON.stringify(runnerTemp)})`,
            `ws.write('a/secret.env', 'K=v')`,
            `process.stdout.write(ws.dir + '\\n')`,
            ending,
        ].join('\n'))
        const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
        let ready = ''
        proc.stdout.on('data', (chunk: Buffer) => {
            ready += chunk.toString()
            if (ending.includes('setInterval') && ready.endsWith('\n')) proc.kill('SIGTERM')
        })
        proc.on('close', (code, signal) => resolve({ code, signal, ready: ready.trim() }))
    })

describe('Workspace', () => {
    it('writes files 0600 in a 0700 directory and removes everything on dispose', () => {
        const ws = Workspace.create(freshTemp())
        const file = ws.write('render/dev/secret.yaml', 'data: x')
        expect(statSync(ws.dir).mode & 0o777).toBe(0o700)
        expect(statSync(file).mode & 0o777).toBe(0o600)
        expect(readdirSync(join(ws.dir, 'render', 'dev'))).toEqual(['secret.yaml'])
        ws.dispose()
        ws.dispose()
        expect(readdirSync(runnerTemp)).toEqual([])
    })

    it('refuses paths that leave the workspace', () => {
        const ws = Workspace.create(freshTemp())
        try {
            expect(() => ws.write('../escape', 'x')).toThrow(/outside the action workspace/)
            expect(existsSync(join(runnerTemp, 'escape'))).toBe(false)
        } finally {
            ws.dispose()
        }
    })

    it('needs RUNNER_TEMP', () => {
        let caught: unknown
        try { Workspace.create(undefined) } catch (error) { caught = error }
        expect(isKeyfleetError(caught) && caught.code).toBe('ACTION_NO_RUNNER_TEMP')
    })

    it('is removed when the process exits without disposing it', async () => {
        freshTemp()
        const result = await child('process.exit(7)')
        expect(result.code).toBe(7)
        expect(result.ready).toContain(runnerTemp)
        expect(readdirSync(runnerTemp)).toEqual([])
    })

    it('is removed when an uncaught error ends the process', async () => {
        freshTemp()
        const result = await child("throw new Error('boom')")
        expect(result.code).toBe(1)
        expect(readdirSync(runnerTemp)).toEqual([])
    })

    it('is removed when the job is cancelled (SIGTERM)', async () => {
        freshTemp()
        const result = await child('setInterval(() => {}, 1000)')
        expect(result.code).toBe(143)
        expect(readdirSync(runnerTemp)).toEqual([])
    })
})
