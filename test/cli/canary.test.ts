/**
 * Canary: every authoring command runs with a recognisable fake key. It must
 * not appear — raw, base64, URL- or JSON-escaped — in stdout, stderr, any
 * process's argv sampled while sops runs, or any file written besides the
 * encrypted env.secrets (which holds only its ciphertext).
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filesUnder, findLeaks, makeCanary } from '../helpers/canary.js'
import { demoKey, keyfleet, makeDemoRepo, type CliResult } from '../helpers/cli.js'

/** Samples every process's argv every few ms while a command runs. */
const sampleArgv = (): { stop: () => string } => {
    const seen = new Set<string>()
    const timer = setInterval(() => {
        for (const pid of readdirSync('/proc')) {
            if (!/^\d+$/.test(pid)) continue
            try { seen.add(readFileSync(`/proc/${pid}/cmdline`, 'latin1')) } catch { /* exited */ }
        }
    }, 2)
    return { stop: () => { clearInterval(timer); return [...seen].join('\n') } }
}

describe('no authoring command leaks the value', () => {
    const canary = makeCanary()
    const outputs: Record<string, string> = {}
    let repo: string
    let sideDir: string
    let argvSeen = ''
    const started = Date.now()

    const run = async (label: string, argv: string[], stdin = '', extraEnv: Record<string, string> = {}): Promise<CliResult> => {
        const sampler = sampleArgv()
        const result = await keyfleet(argv, { cwd: repo, stdin, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), ...extraEnv } })
        argvSeen += sampler.stop()
        outputs[`${label} stdout`] = result.stdout
        outputs[`${label} stderr`] = result.stderr
        return result
    }

    beforeAll(async () => {
        repo = makeDemoRepo()
        sideDir = mkdtempSync(join(tmpdir(), 'keyfleet-canary-side-'))
        writeFileSync(join(sideDir, 'value'), canary)
        // An "editor" that appends a key whose value it reads from a file: no argv carries it.
        const editor = join(sideDir, 'editor.sh')
        writeFileSync(editor, `#!/bin/sh\nv=$(cat '${join(sideDir, 'value')}')\nprintf 'FIREWORKS_API_KEY=%s\\n' "$v" >> "$1"\n`)
        chmodSync(editor, 0o755)
        writeFileSync(join(repo, 'import.env'), `OPENAI_API_KEY=${canary}\n`)
        expect((await run('set', ['set', 'dev', 'OPENAI_API_KEY'], `${canary}\n`)).code).toBe(0)
        expect((await run('set (bad format, refused)', ['set', 'dev', 'GEMINI_API_KEY'], canary)).code).toBe(2)
        expect((await run('set (new env)', ['set', 'stage', 'OPENAI_API_KEY'], canary)).code).toBe(0)
        expect((await run('import', ['import', 'prod', 'import.env', '--remove-source'])).code).toBe(0)
        expect((await run('edit', ['edit', 'dev', '--identity-file', demoKey(repo, 'admin')], '', { EDITOR: editor })).code).toBe(0)
        expect((await run('ls', ['ls'])).code).toBe(0)
        expect((await run('unset', ['unset', 'dev', 'OPENAI_API_KEY', '--force'])).code).toBe(0)
        expect((await run('wrong identity', ['set', 'prod', 'OPENAI_API_KEY'], canary, { SOPS_AGE_KEY_FILE: demoKey(repo, 'laptop-alice') })).code).toBe(3)
        const get = await run('get', ['get', 'prod', 'OPENAI_API_KEY'])
        expect(get.stdout).toBe(`${canary}\n`) // get prints the value: that is its job, and the only place it may appear
        delete outputs['get stdout']
    }, 120_000)

    afterAll(() => undefined)

    it('stdout and stderr of every command', () => {
        expect(findLeaks(canary, outputs)).toEqual([])
    })

    it('argv of every process while sops ran', () => {
        expect(argvSeen.length).toBeGreaterThan(0)
        expect(argvSeen).toContain('sops')
        expect(findLeaks(canary, { argv: argvSeen })).toEqual([])
    })

    it('every file in the repository except the encrypted env.secrets', () => {
        const files = filesUnder(repo, (p) => p.includes(`${join(repo, '.git')}`))
        const others = Object.fromEntries(Object.entries(files).filter(([p]) => !p.endsWith('/env.secrets')))
        expect(findLeaks(canary, others)).toEqual([])
        // env.secrets files hold only ciphertext of it.
        const secrets = Object.fromEntries(Object.entries(files).filter(([p]) => p.endsWith('/env.secrets')))
        expect(Object.keys(secrets).length).toBe(3)
        expect(findLeaks(canary, secrets)).toEqual([])
    })

    it('no new file in the temp directory holds it (sops edit cleans up)', () => {
        const recent: Record<string, Buffer> = {}
        for (const entry of readdirSync(tmpdir())) {
            const path = join(tmpdir(), entry)
            if (path === sideDir) continue
            const st = statSync(path, { throwIfNoEntry: false })
            if (!st || st.mtimeMs < started) continue
            if (st.isFile()) recent[path] = readFileSync(path)
            else if (st.isDirectory()) {
                try { Object.assign(recent, filesUnder(path, () => false, 1 << 20)) } catch { /* another test's dir vanished */ }
            }
        }
        expect(findLeaks(canary, recent)).toEqual([])
    })
})
