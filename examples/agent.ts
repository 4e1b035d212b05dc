/**
 * A tiny agent using `keyfleet/loader` (in your code: `import { openKeys } from 'keyfleet/loader'`).
 *
 * It opens the keys named by KEYFLEET_SECRETS_PATH, says which key it would
 * call each provider with (as a hint: provider, length, last four, never the
 * value) and says so again whenever a key rotates.
 *
 *   KEYFLEET_SECRETS_PATH=/var/run/keyfleet node dist/examples/agent.js
 */
import { fileURLToPath } from 'node:url'
import { openKeys, type KeyStore, type OpenKeysOptions } from '../src/loader/index.js'

const SERVICES = ['claude', 'openai', 'gemini', 'fireworks', 'deepinfra'] as const

/** One line per service: which key (hint) a call would use now. */
export const describeKeys = (keys: KeyStore): string[] =>
    SERVICES.map((service) => `  ${service.padEnd(9)} ${keys.hint(service) ?? '(no key)'}`)

/**
 * Starts the agent: opens the store and logs key hints now and on every change.
 * @returns the open store; close it to stop.
 */
export const startAgent = async (log: (line: string) => void, options: OpenKeysOptions = {}): Promise<KeyStore> => {
    const keys = await openKeys(options)
    log(`agent: reading ${keys.source.path ?? 'environment variables only'} (${keys.source.kind ?? 'nothing yet'}, ${keys.source.mode}), generation ${keys.generation}`)
    for (const line of describeKeys(keys)) log(line)
    keys.on('change', ({ names, generation }) => {
        log(`agent: generation ${generation}: ${names.join(', ')} changed; next calls use:`)
        for (const line of describeKeys(keys)) log(line)
    })
    keys.on('error', (error) => { log(`agent: ${error.code}: ${error.message}`) })
    keys.on('fallback', ({ reason, intervalMs }) => { log(`agent: cannot watch (${reason}); polling every ${intervalMs} ms`) })
    return keys
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    // The open store keeps the process alive (like fs.watch); closing it lets the agent exit.
    const keys = await startAgent((line) => { console.log(line) })
    process.once('SIGINT', () => { void keys.close() })
    process.once('SIGTERM', () => { void keys.close() })
}
