/**
 * Native decryption vs the sops binary, end to end and in the same run:
 * read a 50-key env.secrets (written by sops here) and decrypt it, against
 * spawning `sops decrypt` on the same file. Goal: native ≥ 20x faster.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { decryptSopsFile } from '../src/sops/native/index.js'
import { clearDataKeyMemo } from '../src/sops/native/age-unwrap.js'
import type { BenchRow, BenchSuite } from './types.js'
import { findRoot, sopsBinary } from './tools.js'

const RUNS = 20
/** In-process runs are cheap: more samples give a steadier median. */
const NATIVE_RUNS = 100
const KEYS = 50



const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b)
    return s[Math.floor(s.length / 2)] as number
}

export const run: BenchSuite = async (progress) => {
    const sops = sopsBinary(findRoot())
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-bench-native-'))
    try {
        const identity = await generateIdentity()
        const recipient = await identityToRecipient(identity)
        const plain = Array.from({ length: KEYS }, (_, i) => `PROVIDER_${i}_API_KEY=sk-bench-${i}-${'x'.repeat(40)}`).join('\n')
        writeFileSync(join(dir, 'plain.env'), `${plain}\n`, { mode: 0o600 })
        const env = { PATH: process.env.PATH ?? '', HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1', SOPS_AGE_KEY: identity }
        const enc = spawnSync(sops, ['encrypt', '--age', recipient, '--input-type', 'dotenv', '--output-type', 'dotenv', 'plain.env'], { cwd: dir, env, encoding: 'utf8' })
        if (enc.status !== 0) throw new Error(`sops encrypt failed: ${enc.stderr}`)
        const file = join(dir, 'env.secrets')
        writeFileSync(file, enc.stdout, { mode: 0o600 })

        progress(`native decrypt x${NATIVE_RUNS}`)
        const nativeOnce = async (): Promise<number> => {
            const t0 = performance.now()
            const d = await decryptSopsFile(readFileSync(file, 'utf8'), { store: 'dotenv', identities: [identity] })
            if (d.toEnvMap().size !== KEYS) throw new Error('native decrypt returned the wrong number of keys')
            return performance.now() - t0
        }
        // Warm up the JIT as a long-running agent would be; cold start is reported separately.
        clearDataKeyMemo()
        const cold = await nativeOnce()
        for (let i = 0; i < 10; i++) await nativeOnce()
        const native: number[] = []
        for (let i = 0; i < NATIVE_RUNS; i++) native.push(await nativeOnce())
        // The same with the age unwrap done every time (a file whose data key changed, or a new process).
        const unwrapEvery: number[] = []
        for (let i = 0; i < 10; i++) { clearDataKeyMemo(); await nativeOnce() } // warm the unwrap path too
        for (let i = 0; i < NATIVE_RUNS; i++) {
            clearDataKeyMemo()
            unwrapEvery.push(await nativeOnce())
        }

        progress(`sops decrypt (spawn) x${RUNS}`)
        const sopsOnce = (): number => {
            const t0 = performance.now()
            const r = spawnSync(sops, ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', file], { cwd: dir, env, encoding: 'utf8' })
            if (r.status !== 0) throw new Error('sops decrypt failed')
            return performance.now() - t0
        }
        sopsOnce()
        const spawned: number[] = []
        for (let i = 0; i < RUNS; i++) spawned.push(sopsOnce())

        const n = median(native)
        const s = median(spawned)
        const ratio = s / n
        const rows: BenchRow[] = [{
            suite: 'native', name: `decrypt ${KEYS}-key env.secrets (read + decrypt + MAC), median of ${NATIVE_RUNS}`, value: n, unit: 'ms',
            baseline: { name: 'sops decrypt (spawn)', value: s }, ratio, goal: '>= 20x faster than sops', met: ratio >= 20,
            note: 'native: readFileSync + decryptSopsFile in process, every value opened and the MAC verified each call; the age unwrap is memoized per (stanza, identities) as the loader re-reads an unchanged data key; sops: spawnSync of the pinned binary',
        }, {
            suite: 'native', name: `same, age X25519 unwrap on every call (data key changed), median of ${NATIVE_RUNS}`, value: median(unwrapEvery), unit: 'ms',
            baseline: { name: 'sops decrypt (spawn)', value: s }, ratio: s / median(unwrapEvery), goal: '>= 20x faster than sops', met: s / median(unwrapEvery) >= 20,
        }, {
            suite: 'native', name: `first decrypt in a fresh process (cold JIT)`, value: cold, unit: 'ms',
            baseline: { name: 'sops decrypt (spawn)', value: s }, ratio: s / cold,
            note: 'the first call also loads and compiles the decryption code',
        }]
        return rows
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}
