/**
 * `command: diff` after a data-key rotation: without a key the values cannot be
 * compared, so every re-encrypted name is reported in `changed` (a rotation must
 * not hide a changed value) and in `reencrypted`; with the key, a rotation that
 * changed one value reports exactly that one as changed.
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { sopsPath } from '../helpers/tools.js'
import { demoKey, headCommit, makeSandbox, runAction, sopsSet, type Sandbox } from './harness.js'

const sandboxes: Sandbox[] = []
afterEach(() => { for (const sb of sandboxes.splice(0)) rmSync(sb.base, { recursive: true, force: true }) })

const rotate = (sb: Sandbox, env: string): void => {
    execFileSync(sopsPath(), ['rotate', '--input-type', 'dotenv', '--output-type', 'dotenv', '--in-place', `environments/${env}/env.secrets`], {
        cwd: sb.workspace, env: { PATH: process.env.PATH ?? '', HOME: sb.base, SOPS_AGE_KEY: demoKey(env) }, stdio: 'ignore',
    })
}

describe('keyfleet action: diff after a rotation', () => {
    it('key-less: every re-encrypted name counts as changed and is listed as re-encrypted', async () => {
        const sb = makeSandbox(); sandboxes.push(sb)
        const base = headCommit(sb)
        rotate(sb, 'dev')
        const run = await runAction(sb, { command: 'diff', 'base-ref': base })
        expect(run.code).toBe(0)
        const names = ['ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'OPENAI_API_KEY']
        expect(run.outputs.reencrypted).toBe(names.join(','))
        expect(run.outputs.changed).toBe(names.join(','))
        expect(run.summary).toContain('re-encrypted')
    })

    it('keyed: a rotation that changed one value reports that one as changed', async () => {
        const sb = makeSandbox(); sandboxes.push(sb)
        const base = headCommit(sb)
        rotate(sb, 'dev')
        sopsSet(sb, 'dev', 'OPENAI_API_KEY', 'sk-proj-ROTATEDANDCHANGEDabcdefghijklmnop')
        const run = await runAction(sb, { command: 'diff', environment: 'dev', 'age-key': demoKey('dev'), 'base-ref': base })
        expect(run.code).toBe(0)
        expect(run.outputs.changed).toBe('OPENAI_API_KEY')
        expect(run.outputs.reencrypted).toBe('ANTHROPIC_API_KEY,GEMINI_API_KEY')
    })
})
