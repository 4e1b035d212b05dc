/**
 * `rotate-key --new` SIGKILLed at seeded random moments of its run (the built
 * CLI as a process, real sops): whatever moment it dies, the next run
 * continues and ends in exactly the state an uninterrupted run leaves, and
 * env.secrets always opens with plain `sops decrypt`. Prints the seed on failure.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { demoKey, keyfleet, makeDemoRepo, sopsDecrypt } from '../helpers/cli.js'
import { makeCanary } from '../helpers/canary.js'
import { repoRoot, sopsPath } from '../helpers/tools.js'

const cli = join(repoRoot, 'dist', 'cli', 'main.js')

/** Runs the built CLI; kills it with SIGKILL after `killAfterMs` (if it still runs). Resolves with its wall time. */
const runKilled = (repo: string, value: string, killAfterMs: number): Promise<{ ms: number; killed: boolean }> => new Promise((resolve) => {
    const started = performance.now()
    const child = spawn(process.execPath, [cli, 'rotate-key', 'dev', 'OPENAI_API_KEY', '--new', '--identity-file', demoKey(repo, 'dev')], {
        cwd: repo, env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYFLEET_SOPS: sopsPath() }, stdio: ['pipe', 'ignore', 'ignore'],
    })
    child.stdin.end(`${value}\n`)
    const timer = setTimeout(() => { child.kill('SIGKILL') }, killAfterMs)
    child.on('exit', (_code, signal) => { clearTimeout(timer); resolve({ ms: performance.now() - started, killed: signal === 'SIGKILL' }) })
})

const state = (repo: string): { secrets: string; keys: unknown } => {
    const r = sopsDecrypt(repo, 'dev', demoKey(repo, 'dev'))
    expect(r.code, 'env.secrets must always open with plain sops').toBe(0)
    return { secrets: r.out, keys: (parseYaml(readFileSync(join(repo, 'environments/dev/deployment.yaml'), 'utf8')) as { agents: { keys: unknown }[] }).agents.map((a) => a.keys) }
}

describe('rotate-key killed mid-step', () => {
    it('continues from any kill point of step a to the state of an uninterrupted run (seeded)', async () => {
        const seed = Number(process.env.KEYFLEET_KILL_SEED ?? Date.now() % 1_000_000)
        let rnd = seed
        const next = (): number => { rnd = (rnd * 1_103_515_245 + 12_345) % 2_147_483_648; return rnd / 2_147_483_648 }
        const value = makeCanary()
        const clean = makeDemoRepo()
        const full = await runKilled(clean, value, 600_000)
        expect(full.killed).toBe(false)
        const want = state(clean)
        expect(want.secrets).toContain(`OPENAI_API_KEY_2=${value}\n`)
        const outcomes: string[] = []
        try {
            for (let round = 0; round < 5; round++) {
                const repo = makeDemoRepo()
                const at = Math.floor(next() * full.ms)
                await runKilled(repo, value, at)
                state(repo)
                // The next run: continue without --new; if nothing had been written yet, begin again.
                // No cluster here (kubectl absent): a run after a complete step a waits for the deploy (exit 1).
                const env = { KEYFLEET_KUBECTL: join(repo, 'no-kubectl') }
                let r = await keyfleet(['rotate-key', 'dev', 'OPENAI_API_KEY', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
                if (r.stdout.includes('no rotation of OPENAI_API_KEY')) r = await keyfleet(['rotate-key', 'dev', 'OPENAI_API_KEY', '--new', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env, stdin: `${value}\n` })
                const waiting = r.code === 1 && r.stderr.includes('next: deploy OPENAI_API_KEY_2')
                expect(r.code === 0 || waiting, `kill at ${at} ms: ${r.stdout}${r.stderr}`).toBe(true)
                outcomes.push(`${at} ms: ${waiting ? 'step a was complete' : r.stdout.trim().split('\n')[0] ?? ''}`)
                const got = state(repo)
                expect(got.keys, `kill at ${at} ms`).toEqual(want.keys)
                expect(got.secrets.split('\n').filter((l) => !l.startsWith('sops_')).sort(), `kill at ${at} ms`).toEqual(want.secrets.split('\n').filter((l) => !l.startsWith('sops_')).sort())
            }
            console.log(`rotate-key killed at (seed ${seed}, full run ${Math.round(full.ms)} ms):\n${outcomes.join('\n')}`)
        } catch (error) {
            console.error(`rotate-key kill test failed with KEYFLEET_KILL_SEED=${seed}`)
            throw error
        }
    }, 600_000)
})
