/**
 * `keyfleet edit` while sops holds the plaintext: sops killed with SIGKILL must leave no plaintext behind
 * and be reported as SOPS_KILLED naming the signal (it was SOPS_MISSING with every value left in /tmp).
 * A directory left by a keyfleet that was itself SIGKILLed is swept on the next start.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { privateTmpRoot } from '../../src/sops/private-tmp.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

const side = mkdtempSync(join(tmpdir(), 'keyfleet-edit-kill-'))
afterAll(() => rmSync(side, { recursive: true, force: true }))

describe('edit when sops is killed', () => {
    it('removes the plaintext and reports SOPS_KILLED (SIGKILL)', async () => {
        const repo = makeDemoRepo()
        const before = readFileSync(join(repo, 'environments/dev/env.secrets'))
        const marker = join(side, 'marker')
        const editor = join(side, 'editor.sh')
        // The "editor" records sops' pid and the plaintext path, then waits like a person typing.
        writeFileSync(editor, `#!/bin/sh\necho "$PPID $$ $1" > '${marker}.part' && mv '${marker}.part' '${marker}'\nexec sleep 30\n`)
        chmodSync(editor, 0o755)
        const editing = keyfleet(['edit', 'dev'], { cwd: repo, env: { EDITOR: editor, SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        for (let i = 0; i < 800 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25))
        const [sopsPid, editorPid, plaintext] = readFileSync(marker, 'utf8').trim().split(' ') as [string, string, string]
        expect(existsSync(plaintext)).toBe(true)
        expect(plaintext.startsWith(privateTmpRoot())).toBe(true)
        process.kill(Number(sopsPid), 'SIGKILL')
        const result = await editing
        process.kill(Number(editorPid), 'SIGKILL')
        expect(result.code).not.toBe(0)
        expect(result.stderr).toContain('SOPS_KILLED')
        expect(result.stderr).toContain('SIGKILL')
        expect(existsSync(plaintext)).toBe(false)
        expect(existsSync(dirname(dirname(plaintext)))).toBe(false)
        expect(readdirSync(join(repo, 'environments/dev')).sort()).toEqual(['deployment.yaml', 'env.secrets'])
        expect(readFileSync(join(repo, 'environments/dev/env.secrets'))).toEqual(before)
    }, 60_000)

    it('sweeps what a killed keyfleet left on the next start', async () => {
        const repo = makeDemoRepo()
        const dead = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim()
        const stale = join(privateTmpRoot(), `${dead}-stale`)
        mkdirSync(stale, { recursive: true })
        writeFileSync(join(stale, 'env.secrets'), 'PLAINTEXT=left-behind\n')
        const editor = join(side, 'noop.sh')
        writeFileSync(editor, '#!/bin/sh\nexit 0\n')
        chmodSync(editor, 0o755)
        const result = await keyfleet(['edit', 'dev'], { cwd: repo, env: { EDITOR: editor, SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') } })
        expect(result.stderr).toContain('no changes')
        expect(existsSync(stale)).toBe(false)
    }, 60_000)
})
