/**
 * `rotate-key` SIGKILLed at seeded random moments of its run (the built CLI as
 * a process, real sops): step a (`--new`: env.secrets, then deployment.yaml)
 * and step b (after the rollout confirms every agent on the new member: the
 * old member out of deployment.yaml, then out of env.secrets; the agents'
 * status servers reached through a fake pod proxy by the real kubectl, and a
 * host's status_url). Whatever moment it dies, the next run continues and ends
 * in exactly the state an uninterrupted run leaves, env.secrets always opens
 * with plain `sops decrypt`, and no value reaches any output. Prints the seed
 * on failure (`KEYFLEET_KILL_SEED` reproduces a run).
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { openKeys, type KeyStore } from '../../src/loader/index.js'
import { demoKey, git, keyfleet, makeDemoRepo, sopsDecrypt, type CliResult } from '../helpers/cli.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { repoRoot, sopsPath } from '../helpers/tools.js'
import { KubeletVolume } from '../loader/kubelet.js'
import { cleanupTemp, tempDir } from '../loader/helpers.js'
import { fakeApiServer, fakeKubeconfig, kubectlPath, type Pod } from './rollout-helpers.js'

const cli = join(repoRoot, 'dist', 'cli', 'main.js')
const stores: KeyStore[] = []
const servers: Server[] = []
afterAll(async () => {
    for (const s of stores) await s.close()
    for (const s of servers) s.close()
    cleanupTemp()
})

/** Runs the built CLI; kills it with SIGKILL after `killAfterMs` (if it still runs). Resolves with its wall time and output. */
const runKilled = (repo: string, args: string[], stdin: string, killAfterMs: number, env: Record<string, string> = {}): Promise<{ ms: number; killed: boolean; out: string }> => new Promise((resolve) => {
    const started = performance.now()
    const child = spawn(process.execPath, [cli, 'rotate-key', 'dev', 'OPENAI_API_KEY', ...args, '--identity-file', demoKey(repo, 'dev')], {
        cwd: repo, env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYFLEET_SOPS: sopsPath(), ...env }, stdio: ['pipe', 'pipe', 'pipe'],
    })
    const chunks: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => chunks.push(c))
    child.stderr.on('data', (c: Buffer) => chunks.push(c))
    child.stdin.end(stdin)
    const timer = setTimeout(() => { child.kill('SIGKILL') }, killAfterMs)
    child.on('exit', (_code, signal) => { clearTimeout(timer); resolve({ ms: performance.now() - started, killed: signal === 'SIGKILL', out: Buffer.concat(chunks).toString('utf8') }) })
})

/** The seeded generator of kill moments. */
const seeded = (): { seed: number; next: () => number } => {
    const seed = Number(process.env.KEYFLEET_KILL_SEED ?? Date.now() % 1_000_000)
    let rnd = seed
    return { seed, next: (): number => { rnd = (rnd * 1_103_515_245 + 12_345) % 2_147_483_648; return rnd / 2_147_483_648 } }
}

const state = (repo: string): { secrets: string; keys: unknown } => {
    const r = sopsDecrypt(repo, 'dev', demoKey(repo, 'dev'))
    expect(r.code, 'env.secrets must always open with plain sops').toBe(0)
    return { secrets: r.out, keys: (parseYaml(readFileSync(join(repo, 'environments/dev/deployment.yaml'), 'utf8')) as { agents: { keys: unknown }[] }).agents.map((a) => a.keys) }
}

describe('rotate-key killed mid-step', () => {
    it('continues from any kill point of step a to the state of an uninterrupted run (seeded)', async () => {
        const { seed, next } = seeded()
        const value = makeCanary()
        const clean = makeDemoRepo()
        const full = await runKilled(clean, ['--new'], `${value}\n`, 600_000)
        expect(full.killed).toBe(false)
        const want = state(clean)
        expect(want.secrets).toContain(`OPENAI_API_KEY_2=${value}\n`)
        const outcomes: string[] = []
        try {
            for (let round = 0; round < 5; round++) {
                const repo = makeDemoRepo()
                const at = Math.floor(next() * full.ms)
                await runKilled(repo, ['--new'], `${value}\n`, at)
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

const K8S = [['support-bot', 'agents-dev'], ['research-agent', 'agents-dev'], ['batch-summarizer', 'batch-dev']] as const

/**
 * A demo repository after step a, committed and deployed: every agent (three
 * Secret volumes read by loaders behind a fake pod proxy, the laptop's bundle
 * behind its status_url) serves the render that has OPENAI_API_KEY_2.
 */
const afterStepA = async (value: string): Promise<{ repo: string; env: Record<string, string> }> => {
    const repo = makeDemoRepo()
    const file = join(repo, 'environments', 'dev', 'deployment.yaml')
    let text = readFileSync(file, 'utf8')
    const pods: Pod[] = []
    const volumes = new Map<string, KubeletVolume>()
    for (const [agent, ns] of K8S) {
        const vol = new KubeletVolume(join(tempDir('kill-b', { tmpfs: true }), 'keys'))
        vol.write({})
        volumes.set(agent, vol)
        const keys = await openKeys({ path: vol.dir, env: {}, persistent: false })
        stores.push(keys)
        const port = (await keys.serveStatus({ port: 0 })).port
        pods.push({ ns, name: `${agent}-0`, app: agent, port })
        text = text.replace(`name: ${agent}\n`, `name: ${agent}\n    status_port: ${port}\n`)
    }
    const bundleFile = join(tempDir('kill-b-bundle'), 'keys.age')
    const laptop = await openKeys({ path: bundleFile, identityFile: demoKey(repo, 'laptop-alice'), env: {}, persistent: false, settleMs: 0 })
    stores.push(laptop)
    text = text.replace('name: alice-laptop\n', `name: alice-laptop\n    status_url: ${(await laptop.serveStatus({ port: 0 })).url}/keyfleet/status\n`)
    writeFileSync(file, text)
    git(repo, 'commit', '-qam', 'status endpoints')
    const api = await fakeApiServer(pods)
    servers.push(api.server)
    const env = { KUBECONFIG: fakeKubeconfig(tempDir('kill-b-kc'), api.url), KEYFLEET_KUBECTL: await kubectlPath() }
    const a = await keyfleet(['rotate-key', 'dev', 'OPENAI_API_KEY', '--new', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env, stdin: `${value}\n` })
    expect(a.code, a.stderr).toBe(0)
    git(repo, 'commit', '-qam', 'rotate-key a')
    const out = tempDir('kill-b-render')
    const r = await keyfleet(['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
    expect(r.code, r.stderr).toBe(0)
    for (const [agent, ns] of K8S) {
        const secret = parseYaml(readFileSync(join(out, ns, 'secrets', `${agent}.yaml`), 'utf8')) as { data: Record<string, string> }
        volumes.get(agent)?.write(Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])))
    }
    writeFileSync(`${bundleFile}.tmp`, readFileSync(join(out, 'bundles', 'alice-laptop.keys.age')))
    renameSync(`${bundleFile}.tmp`, bundleFile)
    // Every agent that reads the key serves it before step b may run.
    for (let i = 0; stores.some((s) => s.names().includes('OPENAI_API_KEY') && s.get('OPENAI_API_KEY_2') !== value); i++) {
        if (i > 400) throw new Error('the deploy of step a did not reach every agent')
        await new Promise((resolve) => { setTimeout(resolve, 25) })
    }
    return { repo, env }
}

describe('rotate-key killed during step b', () => {
    it('continues from any kill point of step b (old member out of deployment.yaml, then env.secrets) to the state of an uninterrupted run (seeded)', async () => {
        const { seed, next } = seeded()
        const value = makeCanary()
        const { repo: base, env } = await afterStepA(value)
        const old = /^OPENAI_API_KEY=(.*)$/m.exec(sopsDecrypt(base, 'dev', demoKey(base, 'dev')).out)?.[1] as string
        const copy = (): string => {
            const dir = join(mkdtempSync(join(tmpdir(), 'keyfleet-kill-b-')), 'repo')
            cpSync(base, dir, { recursive: true })
            return dir
        }
        const clean = copy()
        const full = await runKilled(clean, [], '', 600_000, env)
        expect(full.killed).toBe(false)
        expect(full.out).toContain('step b: every agent serves OPENAI_API_KEY_2; removed OPENAI_API_KEY')
        const want = state(clean)
        expect(want.secrets).not.toMatch(/^OPENAI_API_KEY=/m)
        const same = (got: ReturnType<typeof state>): boolean => JSON.stringify(got.keys) === JSON.stringify(want.keys)
            && JSON.stringify(got.secrets.split('\n').filter((l) => !l.startsWith('sops_')).sort()) === JSON.stringify(want.secrets.split('\n').filter((l) => !l.startsWith('sops_')).sort())
        const printed: string[] = [full.out]
        const outcomes: string[] = []
        try {
            for (let round = 0; round < 6; round++) {
                const repo = copy()
                // Every other kill lands in the last 40 % of the run, where the two writes are (the rollout read comes first).
                const at = Math.floor((round % 2 === 0 ? next() : 0.6 + 0.4 * next()) * full.ms)
                const killed = await runKilled(repo, [], '', at, env)
                printed.push(killed.out)
                const mid = state(repo)
                const midKeys = JSON.stringify(mid.keys) === JSON.stringify(want.keys)
                const stage = same(mid) ? 'step b was complete' : midKeys ? 'deployment.yaml written, env.secrets not' : mid.secrets.includes('\nOPENAI_API_KEY=') || mid.secrets.startsWith('OPENAI_API_KEY=') ? 'nothing written' : 'env.secrets written first (wrong order)'
                const r: CliResult = await keyfleet(['rotate-key', 'dev', 'OPENAI_API_KEY', '--identity-file', demoKey(repo, 'dev')], { cwd: repo, env })
                printed.push(r.stdout, r.stderr)
                // After a complete step b the next run is step c, which waits for the deploy of the removal (exit 1).
                expect(r.code === 0 || (same(mid) && r.code === 1), `kill at ${at} ms (${stage}): ${r.stdout}${r.stderr}`).toBe(true)
                expect(same(state(repo)), `kill at ${at} ms (${stage}): the state differs from an uninterrupted step b`).toBe(true)
                // Nothing lost, nothing stray: only the two files step b writes differ from HEAD. A kill inside an atomic
                // write leaves its temp file (src/repo/atomic.ts); the next run's write of that file removes it.
                const changed = git(repo, 'status', '--porcelain', '--untracked-files=all').split('\n').filter((l) => l !== '').map((l) => l.slice(3)).sort()
                expect(changed, `kill at ${at} ms (${stage})`).toEqual(['environments/dev/deployment.yaml', 'environments/dev/env.secrets'])
                outcomes.push(`${at} ms: killed ${killed.killed ? 'mid-run' : 'after it ended'}, ${stage}`)
            }
            expect(findLeaks(value, { all: printed.join('\n') })).toEqual([])
            expect(findLeaks(old, { all: printed.join('\n') })).toEqual([])
            console.log(`rotate-key step b killed at (seed ${seed}, full run ${Math.round(full.ms)} ms):\n${outcomes.join('\n')}`)
        } catch (error) {
            console.error(`rotate-key step b kill test failed with KEYFLEET_KILL_SEED=${seed}`)
            throw error
        }
    }, 600_000)
})
