/**
 * One agent process of the rotation drill (scripts/drill.ts): reads its keys
 * with the loader (`preferNewest`) from a Kubernetes-style mount (a Secret
 * volume, or the directory `keyfleet agent sync` keeps for a host) or, as a
 * host does, from the signed pull channel (openKeys with url, signingKeyFile,
 * identityFile, pollMs), serves its status, and calls the fake provider
 * in a loop through the pool, as an agent
 * would: on a 401 the key sits out and the call is retried once with the
 * next one. Prints `{"port":…}` when ready and `{"calls":…,"failed":…}` on SIGTERM.
 * Never prints a value.
 *
 * argv: one JSON object, {@link AgentSpec}.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { openKeys } from '../src/loader/index.js'

/** What one drill agent reads and calls. */
export interface AgentSpec {
    readonly name: string
    readonly providerUrl: string
    readonly intervalMs: number
    /** A Secret-volume directory (kubernetes, or a host's `agent sync --out`). */
    readonly path?: string
    /** The pull channel (a host reading its bundle in process). */
    readonly url?: string
    readonly signingKeyFile?: string
    readonly identityFile?: string
    readonly pollMs?: number
    readonly cacheDir?: string
}

const spec = JSON.parse(process.argv[2] ?? '{}') as AgentSpec
const { providerUrl, name, intervalMs } = spec
const keys = await openKeys(spec.url === undefined
    ? { path: spec.path, env: {}, preferNewest: true }
    : { url: spec.url, signingKeyFile: spec.signingKeyFile, identityFile: spec.identityFile, pollMs: spec.pollMs, cacheDir: spec.cacheDir, agent: name, env: {}, preferNewest: true })
const status = await keys.serveStatus({ port: 0 })
let calls = 0
let failed = 0
let stopping = false

const attempt = async (key: string): Promise<number> => {
    const res = await fetch(`${providerUrl}/v1/models`, { headers: { authorization: `Bearer ${key}`, 'x-drill-agent': name } })
    await res.arrayBuffer()
    return res.status
}

const loop = async (): Promise<void> => {
    while (!stopping) {
        calls++
        let ok = false
        for (let tries = 0; tries < 2 && !ok; tries++) {
            const choice = keys.pick('openai')
            if (!choice) break
            try {
                const code = await attempt(choice.value)
                if (code === 200) ok = true
                else if (code === 401) keys.reportFailure(choice, { cooldownMs: 60_000 })
            } catch {
                // The provider is gone (the drill is stopping): not a key failure.
                if (stopping) { calls--; return }
            }
        }
        if (!ok) failed++
        await sleep(intervalMs)
    }
}

process.on('SIGTERM', () => {
    stopping = true
    void done.then(async () => {
        process.stdout.write(`${JSON.stringify({ calls, failed })}\n`)
        await keys.close()
        process.exit(0)
    })
})
process.stdout.write(`${JSON.stringify({ port: status.port })}\n`)
const done = loop()
