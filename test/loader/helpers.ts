/** Shared test helpers for the loader: temp dirs and event waits (generous timeouts, no timing assertions). */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangeEvent, KeyStore, KeyStoreEvents } from '../../src/loader/index.js'

const made: string[] = []

// Kubernetes Secret volumes are tmpfs; so is /dev/shm. Using it for volume
// tests is both more faithful and several times faster than a disk-backed /tmp.
const tmpfsRoot = ((): string | undefined => {
    try { accessSync('/dev/shm', constants.W_OK); return '/dev/shm' } catch { return undefined }
})()

/** A fresh temp dir (on tmpfs when `tmpfs` and the machine has /dev/shm), removed by {@link cleanupTemp}. */
export const tempDir = (label = 'loader', options: { tmpfs?: boolean } = {}): string => {
    const dir = mkdtempSync(join(options.tmpfs && tmpfsRoot ? tmpfsRoot : tmpdir(), `keyfleet-${label}-`))
    made.push(dir)
    return dir
}

/** Removes every temp dir made so far (call in afterAll/afterEach). */
export const cleanupTemp = (): void => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Resolves with the next `event` matching `accept`, or rejects after `timeoutMs`. */
export const nextEvent = <K extends keyof KeyStoreEvents>(
    store: KeyStore, event: K, accept: (payload: KeyStoreEvents[K]) => boolean = () => true, timeoutMs = 10_000,
): Promise<KeyStoreEvents[K]> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`)) }, timeoutMs)
    const off = store.on(event, (payload) => {
        if (!accept(payload)) return
        clearTimeout(timer)
        off()
        resolve(payload)
    })
})

/** Waits until `get(name)` returns `value` (checks on every change event and once now). */
export const untilValue = async (store: KeyStore, name: string, value: string | undefined, timeoutMs = 10_000): Promise<void> => {
    if (store.get(name) === value) return
    await nextEvent(store, 'change', () => store.get(name) === value, timeoutMs)
}

/** Waits for a change event naming `name`. */
export const changeOf = (store: KeyStore, name: string, timeoutMs?: number): Promise<ChangeEvent> =>
    nextEvent(store, 'change', (e) => e.names.includes(name), timeoutMs)

/** A turn of the event loop. */
export const turn = (): Promise<void> => new Promise((resolve) => { setImmediate(resolve) })
