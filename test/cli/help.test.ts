/** `--help` answers on every command, and the overview lists every command. */
import { describe, expect, it } from 'vitest'
import { commands } from '../../src/cli/commands/index.js'
import { keyfleet } from '../helpers/cli.js'
import { repoRoot } from '../helpers/tools.js'

describe('keyfleet --help', () => {
    it('lists every command by group', async () => {
        const result = await keyfleet(['--help'], { cwd: repoRoot })
        expect(result.code).toBe(0)
        for (const command of commands) expect(result.stdout).toContain(`  ${command.name} `)
        expect(result.stdout).toContain('Exit codes:')
    })

    it('registers each command under the name and summary its module declares (the lazy list cannot drift)', async () => {
        for (const entry of commands) {
            const command = await entry.load()
            expect({ name: command.name, summary: command.summary }).toEqual({ name: entry.name, summary: entry.summary })
        }
    })

    for (const command of commands) {
        it(`keyfleet ${command.name} --help`, async () => {
            const result = await keyfleet([...command.name.split(' '), '--help'], { cwd: repoRoot })
            expect(result.code).toBe(0)
            expect(result.stdout).toContain(`Usage: keyfleet ${command.name}`)
            expect(result.stdout).toContain('-h, --help')
            expect(result.stdout.length).toBeGreaterThan(200) // a paragraph, not just a usage line
        })
    }

    it('points a partial command to its subcommands and rejects unknown options', async () => {
        const partial = await keyfleet(['hook'], { cwd: repoRoot })
        expect(partial.code).toBe(2)
        expect(partial.stderr).toContain('did you mean keyfleet hook install?')
        // A group without a command of its own answers --help with its commands.
        for (const flag of ['--help', '-h']) {
            const group = await keyfleet(['rollout', flag], { cwd: repoRoot })
            expect(group.code, group.stderr).toBe(0)
            expect(group.stdout).toContain('Usage: keyfleet rollout <command>')
            expect(group.stdout).toMatch(/^ {2}rollout status {2}Show which agents serve/m)
        }
        const bare = await keyfleet(['rollout'], { cwd: repoRoot })
        expect(bare.code).toBe(2)
        expect(bare.stdout).toContain('rollout status')
        expect(bare.stderr).toContain('did you mean keyfleet rollout status?')
        const unknown = await keyfleet(['ls', '--colour'], { cwd: repoRoot })
        expect(unknown.code).toBe(2)
        expect(unknown.stderr).toContain('[USAGE]')
    })
})
