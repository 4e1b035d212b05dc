/**
 * The rotation drill (scripts/drill.ts) as a bench suite: a full overlap
 * rotation over KEYFLEET_DRILL_AGENTS (default 20) Kubernetes agents and
 * KEYFLEET_DRILL_HOSTS (default 20 % of them, at least 2) hosts on the signed
 * pull channel. Counts have goals (0 failed calls, 0 old-key calls after
 * revocation), overall and by kind; the times are compared with one deploy of
 * the same fleet measured in the same run (render + publish + every volume
 * swapped), since a rotation is three deploys plus the waits.
 */
import type { BenchRow, BenchSuite } from './types.js'
import { runDrill } from '../scripts/drill.js'

export const run: BenchSuite = async (progress) => {
    const agents = Number(process.env.KEYFLEET_DRILL_AGENTS ?? 20)
    const hosts = process.env.KEYFLEET_DRILL_HOSTS === undefined ? undefined : Number(process.env.KEYFLEET_DRILL_HOSTS)
    const r = await runDrill({ agents, hosts, log: progress })
    const deploy = { name: `one deploy of ${agents} agents + ${r.hosts} hosts (median)`, value: r.deployMs }
    const writer = r.writer === 'kubelet' ? "volumes written by the kubelet's AtomicWriter" : 'volumes written by our TS copy of the AtomicWriter (binary missing)'
    const rows: BenchRow[] = [
        { suite: 'drill', name: `calls made by ${agents} kubernetes agents + ${r.hosts} hosts`, value: r.calls, unit: 'calls', note: `${writer}; hosts: ${r.hostsVia.url} openKeys({ url }), ${r.hostsVia.sync} agent sync` },
        { suite: 'drill', name: 'calls failed', value: r.failed, unit: 'calls', goal: '0', met: r.failed === 0 },
        { suite: 'drill', name: 'merge → last agent on the new key', value: r.mergeToLastNewMs, unit: 'ms', baseline: deploy, ratio: r.mergeToLastNewMs / r.deployMs, note: 'ratio: time / one deploy' },
        { suite: 'drill', name: 'merge → old key revocable (revoked)', value: r.mergeToRevocableMs, unit: 'ms', baseline: deploy, ratio: r.mergeToRevocableMs / r.deployMs, note: 'ratio: time / one deploy' },
        { suite: 'drill', name: 'calls with the old key after revocation', value: r.oldAfterRevoke, unit: 'calls', goal: '0', met: r.oldAfterRevoke === 0 },
    ]
    for (const [kind, k] of Object.entries(r.byKind)) {
        if (k.agents === 0) continue
        rows.push(
            { suite: 'drill', name: `${kind}: calls made by ${k.agents}`, value: k.calls, unit: 'calls' },
            { suite: 'drill', name: `${kind}: calls failed`, value: k.failed, unit: 'calls', goal: '0', met: k.failed === 0 },
            { suite: 'drill', name: `${kind}: merge → last on the new key`, value: k.mergeToLastNewMs, unit: 'ms', baseline: deploy, ratio: k.mergeToLastNewMs / r.deployMs, note: 'ratio: time / one deploy' },
            { suite: 'drill', name: `${kind}: old-key calls after revocation`, value: k.oldAfterRevoke, unit: 'calls', goal: '0', met: k.oldAfterRevoke === 0 },
        )
    }
    return rows
}
