/**
 * The rotation drill (scripts/drill.ts) as a bench suite: a full overlap
 * rotation over KEYFLEET_DRILL_AGENTS (default 20) agent processes. Counts
 * have goals (0 failed calls, 0 old-key calls after revocation); the times are
 * compared with one deploy of the same fleet measured in the same run (render
 * + every mount swapped), since a rotation is three deploys plus the waits.
 */
import type { BenchRow, BenchSuite } from './types.js'
import { runDrill } from '../scripts/drill.js'

export const run: BenchSuite = async (progress) => {
    const agents = Number(process.env.KEYFLEET_DRILL_AGENTS ?? 20)
    const r = await runDrill({ agents, log: progress })
    const deploy = { name: `one deploy of ${agents} agents (median)`, value: r.deployMs }
    const rows: BenchRow[] = [
        { suite: 'drill', name: `calls made by ${agents} agents`, value: r.calls, unit: 'calls' },
        { suite: 'drill', name: 'calls failed', value: r.failed, unit: 'calls', goal: '0', met: r.failed === 0 },
        { suite: 'drill', name: 'merge → last agent on the new key', value: r.mergeToLastNewMs, unit: 'ms', baseline: deploy, ratio: r.mergeToLastNewMs / r.deployMs, note: 'ratio: time / one deploy' },
        { suite: 'drill', name: 'merge → old key revocable (revoked)', value: r.mergeToRevocableMs, unit: 'ms', baseline: deploy, ratio: r.mergeToRevocableMs / r.deployMs, note: 'ratio: time / one deploy' },
        { suite: 'drill', name: 'calls with the old key after revocation', value: r.oldAfterRevoke, unit: 'calls', goal: '0', met: r.oldAfterRevoke === 0 },
    ]
    return rows
}
