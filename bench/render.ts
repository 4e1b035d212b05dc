/**
 * Render throughput: 100, 1,000 and 10,000 kubernetes agents with 20 keys
 * each (Secret + Deployment patch + schema validation + kustomize Components
 * + registry), and 100 bundle agents (age encryption). Baseline, same run:
 * `yaml.stringify` of the same Secret and patch objects, with no validation.
 * Goal: under 1 s for 1,000 agents and a linear curve (10k/1k time ratio ≈ 10).
 */
import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { stringify } from 'yaml'
import { generateIdentity } from '../src/age/index.js'
import { builtinCatalog } from '../src/catalog/index.js'
import { renderEnvironment, type AgentSpec, type Deployment } from '../src/render/index.js'
import { deploymentPatch, secretManifest } from '../src/render/kubernetes.js'
import type { BenchRow, BenchSuite } from './types.js'

// 20 keys per agent: OPENAI_API_KEY and its pool members _2.._20 (a catalog pool, no custom catalog needed).
const KEYS = ['OPENAI_API_KEY', ...Array.from({ length: 19 }, (_, i) => `OPENAI_API_KEY_${i + 2}`)].sort()
const VALUES = new Map(KEYS.map((k, i) => [k, `sk-proj-${String(i).padStart(2, '0')}${'x'.repeat(48)}`]))

const agents = (n: number, target: 'kubernetes' | 'bundle', recipient?: string): Deployment => ({
    environment: 'dev',
    file: 'bench',
    agents: Array.from({ length: n }, (_, i): AgentSpec => ({
        name: `agent-${i}`, cloud: 'aws', target, keys: KEYS, line: i + 1, statusPort: 9469, statusUrl: undefined,
        namespace: target === 'kubernetes' ? `ns-${i % 10}` : undefined,
        recipient: target === 'bundle' ? recipient : undefined,
        deployment: `agent-${i}`, container: `agent-${i}`, mountPath: '/var/run/keyfleet/secrets',
    })),
})

// A full GC before each timed run, so that no run pays for collecting the previous run's output
// (at 10,000 agents that is ~50 MB of strings, which would otherwise bend the curve).
setFlagsFromString('--expose-gc')
const collect = runInNewContext('gc') as (() => void) | undefined

/** Best of `runs` wall-clock times of `fn`, in ms, each started on a collected heap. */
const best = async (runs: number, fn: () => unknown): Promise<number> => {
    let min = Infinity
    for (let i = 0; i < runs; i++) {
        collect?.()
        const start = performance.now()
        await fn()
        min = Math.min(min, performance.now() - start)
    }
    return min
}

export const run: BenchSuite = async (progress) => {
    const rows: BenchRow[] = []
    const times = new Map<number, number>()
    // Warm up the schema validators (ajv compiles each schema on first use).
    await renderEnvironment({ env: 'dev', values: VALUES, deployment: agents(50, 'kubernetes'), catalog: builtinCatalog })
    for (const n of [100, 1_000, 10_000]) {
        progress(`render ${n} kubernetes agents × 20 keys`)
        const deployment = agents(n, 'kubernetes')
        // Best of several runs: the minimum is the least disturbed by other processes and GC timing.
        const runs = n >= 10_000 ? 3 : n >= 1_000 ? 10 : 20
        const ms = await best(runs, () => renderEnvironment({ env: 'dev', values: VALUES, deployment, catalog: builtinCatalog }))
        const entries = KEYS.map((k): [string, string] => [k, VALUES.get(k) as string])
        const baseline = await best(runs, () => {
            for (const agent of deployment.agents) {
                stringify(secretManifest('dev', agent, entries, '0123456789abcdef'))
                stringify(deploymentPatch(agent))
            }
        })
        times.set(n, ms)
        rows.push({
            suite: 'render', name: `render ${n} k8s agents × 20 keys`, value: ms, unit: 'ms',
            baseline: { name: 'yaml.stringify same objects, no validation', value: baseline },
            ratio: baseline / ms,
            ...(n === 1_000 ? { goal: '< 1000 ms', met: ms < 1_000 } : {}),
            note: `${(ms / n).toFixed(3)} ms per agent`,
        })
    }
    for (const n of [100, 1_000, 10_000]) {
        rows.push({ suite: 'render', name: `per agent at ${n} agents`, value: (times.get(n) as number) / n, unit: 'ms/agent' })
    }
    const linear = (times.get(10_000) as number) / (times.get(1_000) as number)
    rows.push({
        suite: 'render', name: 'linearity: time(10k) / time(1k)', value: linear, unit: 'x',
        goal: '≈ 10 (linear; ≤ 13)', met: linear <= 13,
        note: `per agent: 100 → ${((times.get(100) as number) / 100).toFixed(3)} ms, 1k → ${((times.get(1_000) as number) / 1_000).toFixed(3)} ms, 10k → ${((times.get(10_000) as number) / 10_000).toFixed(3)} ms`,
    })

    progress('render 100 bundle agents × 20 keys (age X25519)')
    const { recipient } = await generateIdentity()
    const bundles = agents(100, 'bundle', recipient)
    const bundleMs = await best(3, () => renderEnvironment({ env: 'dev', values: VALUES, deployment: bundles, catalog: builtinCatalog }))
    const k8sPerAgent = (times.get(100) as number) / 100
    rows.push({
        suite: 'render', name: 'render 100 bundle agents × 20 keys', value: bundleMs, unit: 'ms',
        baseline: { name: '100 k8s agents (same run)', value: times.get(100) as number },
        ratio: (times.get(100) as number) / bundleMs,
        note: `${(bundleMs / 100).toFixed(3)} ms per bundle vs ${k8sPerAgent.toFixed(3)} ms per k8s agent`,
    })
    return rows
}
