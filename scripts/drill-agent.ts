/**
 * One agent process of the rotation drill (scripts/drill.ts): reads its keys
 * from a Kubernetes-style mount with the loader (`preferNewest`), serves its
 * status, and calls the fake provider in a loop through the pool, as an agent
 * would: on a 401 the key sits out and the call is retried once with the
 * next one. Prints `{"port":…}` when ready and `{"calls":…,"failed":…}` on SIGTERM.
 * Never prints a value.
 *
 * argv: MOUNT PROVIDER_URL AGENT_NAME [INTERVAL_MS]
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { openKeys } from '../src/loader/index.js'

const [mount, providerUrl, name, interval] = process.argv.slice(2) as [string, string, string, string | undefined]
const intervalMs = Number(interval ?? 10)
const keys = await openKeys({ path: mount, env: {}, preferNewest: true })
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
