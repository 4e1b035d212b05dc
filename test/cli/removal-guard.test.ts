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

    it('guards a regional variant an agent reads, and names only the agents that read the global key', async () => {
        const repo = makeDemoRepo()
        writeFileSync(join(repo, 'environments/dev/deployment.yaml'), REGIONAL)
        const env = { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin') }
        const set = await keyfleet(['set', 'dev', 'OPENAI_API_KEY__EU', '--allow-unknown'], { cwd: repo, env, stdin: `sk-proj-${'e'.repeat(48)}` })
        expect(set.code, set.stderr).toBe(0)
        const before = secrets(repo)
        // fallback: global would silently hand support-eu the global key: refused, naming it.
        const variant = await keyfleet(['unset', 'dev', 'OPENAI_API_KEY__EU'], { cwd: repo, env })
        expect(variant.code, variant.stderr).toBe(2)
        expect(variant.stderr).toContain('REMOVE_GUARDED')
        expect(variant.stderr).toContain('support-eu')
        expect(variant.stderr).not.toContain('support-bot')
        expect(variant.stderr).not.toContain('support-us')
        expect(secrets(repo)).toEqual(before)
        // The global key: support-eu reads its variant, support-us falls back to the global key.
        const global = await keyfleet(['unset', 'dev', 'OPENAI_API_KEY'], { cwd: repo, env })
        expect(global.code).toBe(2)
        expect(global.stderr).toContain('support-bot')
        expect(global.stderr).toContain('support-us')
        expect(global.stderr).not.toContain('support-eu')
        expect(secrets(repo)).toEqual(before)
    })
})

const REGIONAL = `environment: dev
regions:
  eu: {}
  us: {}
fallback: global
agents:
  - name: support-bot
    cloud: aws
    target: kubernetes
    namespace: agents-dev
    keys: [claude, openai]
  - name: support-eu
    cloud: aws
    target: kubernetes
    namespace: agents-eu
    region: eu
    keys: [openai]
  - name: support-us
    cloud: aws
    target: kubernetes
    namespace: agents-us
    region: us
    keys: [openai]
`
