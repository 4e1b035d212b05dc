/**
 * The drill's assertions (issue 17): a full overlap rotation over a small
 * fleet, 3 Kubernetes agents (Secret volumes written by the kubelet's real
 * AtomicWriter where it is built) and 2 hosts on the signed pull channel (one
 * openKeys with url, one `keyfleet agent sync`), deployed through the action's
 * render and publish, through the real CLI, sops, kubectl and loaders: no call
 * of either kind fails, and none uses the old key after it was revoked.
 * Needs the build (`npm run build`): the agents run dist/scripts/drill-agent.js.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, sopsPath } from './helpers/tools.js'
import { kubectlPath } from './cli/rollout-helpers.js'
import { drillTable, runDrill } from '../scripts/drill.js'

describe('npm run drill', () => {
    it('rotates a key under load with zero failed calls and zero old-key calls after revocation', async () => {
        expect(existsSync(join(repoRoot, 'dist', 'scripts', 'drill-agent.js')), 'run npm run build first').toBe(true)
        process.env.KEYFLEET_SOPS ??= sopsPath()
        process.env.KEYFLEET_KUBECTL ??= await kubectlPath()
        const lines: string[] = []
        // Hosts poll every 3 s, so they lag the volumes: the revocation must still come after the last of them.
        const r = await runDrill({ agents: 3, hosts: 2, intervalMs: 20, hostPollMs: 3000, afterRevokeMs: 500, log: (l) => lines.push(l) })
        console.log(drillTable(r))
        expect(r.failed, lines.join('\n')).toBe(0)
        expect(r.oldAfterRevoke).toBe(0)
        if (process.env.KEYFLEET_REQUIRE_KUBE === '1') expect(r.writer).toBe('kubelet')
        // Hosts took part in the same way: they called, got the new key before the revocation, lost nothing.
        expect(r.byKind.host.agents).toBe(2)
        expect(r.hostsVia).toEqual({ url: 1, sync: 1 })
        expect(r.byKind.kubernetes.calls + r.byKind.host.calls).toBe(r.calls)
        for (const kind of [r.byKind.kubernetes, r.byKind.host]) {
            expect(kind.calls).toBeGreaterThan(0)
            expect(kind.failed).toBe(0)
            expect(kind.oldAfterRevoke).toBe(0)
            expect(Number.isFinite(kind.mergeToLastNewMs)).toBe(true)
            expect(kind.mergeToLastNewMs).toBeLessThan(r.mergeToRevocableMs)
        }
        // Both keys carried traffic, and nothing was ever refused while the agents ran.
        expect(r.byKey.old?.['200']).toBeGreaterThan(0)
        expect(r.byKey.new?.['200']).toBeGreaterThan(0)
        expect(Object.values(r.byKey).every((counts) => counts['401'] === undefined)).toBe(true)
        expect(r.calls).toBeGreaterThan(0)
        expect(Number.isFinite(r.mergeToLastNewMs)).toBe(true)
        expect(r.mergeToRevocableMs).toBeGreaterThan(r.mergeToLastNewMs)
    }, 600_000)
})
