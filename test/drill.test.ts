/**
 * The drill's assertions (issue 17): a full overlap rotation over a small
 * fleet of agent processes, through the real CLI, sops, kubectl and loaders,
 * loses no call, and no call uses the old key after it was revoked.
 * Needs the build (`npm run build`): the agents run dist/scripts/drill-agent.js.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, sopsPath } from './helpers/tools.js'
import { kubectlPath } from './cli/rollout-helpers.js'
import { runDrill } from '../scripts/drill.js'

describe('npm run drill', () => {
    it('rotates a key under load with zero failed calls and zero old-key calls after revocation', async () => {
        expect(existsSync(join(repoRoot, 'dist', 'scripts', 'drill-agent.js')), 'run npm run build first').toBe(true)
        process.env.KEYFLEET_SOPS ??= sopsPath()
        process.env.KEYFLEET_KUBECTL ??= await kubectlPath()
        const lines: string[] = []
        const r = await runDrill({ agents: 3, intervalMs: 20, afterRevokeMs: 500, log: (l) => lines.push(l) })
        expect(r.failed, lines.join('\n')).toBe(0)
        expect(r.oldAfterRevoke).toBe(0)
        // Both keys carried traffic, and nothing was ever refused while the agents ran.
        expect(r.byKey.old?.['200']).toBeGreaterThan(0)
        expect(r.byKey.new?.['200']).toBeGreaterThan(0)
        expect(Object.values(r.byKey).every((counts) => counts['401'] === undefined)).toBe(true)
        expect(r.calls).toBeGreaterThan(0)
        expect(Number.isFinite(r.mergeToLastNewMs)).toBe(true)
        expect(r.mergeToRevocableMs).toBeGreaterThan(r.mergeToLastNewMs)
    }, 600_000)
})
