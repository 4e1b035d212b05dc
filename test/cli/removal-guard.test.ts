/**
 * Guarded removals: `unset` and `edit` refuse to remove a key that agents read or that the catalog
 * requires, name the agents, change nothing; `--force` removes it and still names them.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

const secrets = (repo: string): Buffer => readFileSync(join(repo, 'environments/dev/env.secrets'))

describe('guarded removals', () => {
    it('unset names the agents and the catalog rule, and refuses without --force', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const before = secrets(repo)
        const refused = await keyfleet(['unset', 'dev', 'OPENAI_API_KEY'], { cwd: repo, env })
        expect(refused.code).toBe(2)
        expect(refused.stderr).toContain('REMOVE_GUARDED')
        for (const agent of ['support-bot', 'research-agent', 'alice-laptop']) expect(refused.stderr).toContain(agent)
        expect(refused.stderr).not.toContain('batch-summarizer')
        expect(refused.stderr).toContain('required in dev')
        expect(secrets(repo)).toEqual(before)
        const forced = await keyfleet(['unset', 'dev', 'OPENAI_API_KEY', '--force'], { cwd: repo, env })
        expect(forced.code, forced.stderr).toBe(0)
        expect(forced.stderr).toContain('research-agent')
        expect(secrets(repo).toString()).not.toMatch(/^OPENAI_API_KEY=/m)
    })

    it('unset of a key nobody reads needs no --force', async () => {
        const repo = makeDemoRepo()
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        expect((await keyfleet(['set', 'dev', 'FIREWORKS_API_KEY', '--force'], { cwd: repo, env, stdin: 'fw-unused-value-1234567890' })).code).toBe(0)
        const r = await keyfleet(['unset', 'dev', 'FIREWORKS_API_KEY'], { cwd: repo, env })
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toBe('')
    })

    it('edit that deletes a read key is not saved without --force', async () => {
        const repo = makeDemoRepo()
        const side = mkdtempSync(join(tmpdir(), 'keyfleet-guard-'))
        const editor = join(side, 'drop.sh')
        writeFileSync(editor, '#!/bin/sh\ngrep -v "^ANTHROPIC_API_KEY=" "$1" > "$1.new" && cat "$1.new" > "$1" && rm "$1.new"\n')
        chmodSync(editor, 0o755)
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: editor }
        const before = secrets(repo)
        const refused = await keyfleet(['edit', 'dev'], { cwd: repo, env })
        expect(refused.code).toBe(2)
        expect(refused.stderr).toContain('REMOVE_GUARDED')
        expect(refused.stderr).toContain('batch-summarizer')
        expect(secrets(repo)).toEqual(before)
        const forced = await keyfleet(['edit', 'dev', '--force'], { cwd: repo, env })
        expect(forced.code, forced.stderr).toBe(0)
        expect(secrets(repo).toString()).not.toMatch(/^ANTHROPIC_API_KEY=/m)
    })
})
