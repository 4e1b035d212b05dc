import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { divertSignals } from '../../src/cli/signals.js'
import { repoRoot } from '../helpers/tools.js'

describe('divertSignals', () => {
    it('delivers a signal caught just before the swap to the new handler, then gives it back (built module, own process)', () => {
        // The kill is caught by node at once but reaches JS only on a later loop turn, after the swap:
        // removing the last listener first (removeAllListeners, then on) loses it, and nothing prints "diverted".
        const module = pathToFileURL(join(repoRoot, 'dist/src/cli/signals.js')).href
        const script = `
            import { divertSignals } from ${JSON.stringify(module)}
            process.on('SIGTERM', () => console.log('saved'))
            process.kill(process.pid, 'SIGTERM')
            const restore = divertSignals(['SIGTERM'], (signal) => console.log('diverted ' + signal))
            setTimeout(() => { restore(); process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 200) }, 200)`
        const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
        expect(out).toBe('diverted SIGTERM\nsaved\n')
    })

    it('puts every saved listener back in order, once', () => {
        const a = (): void => {}
        const b = (): void => {}
        const handler = (): void => {}
        const before = process.listeners('SIGHUP')
        process.on('SIGHUP', a)
        process.on('SIGHUP', b)
        try {
            const restore = divertSignals(['SIGHUP'], handler)
            expect(process.listeners('SIGHUP')).toEqual([handler])
            restore()
            restore()
            expect(process.listeners('SIGHUP')).toEqual([...before, a, b])
        } finally {
            process.removeListener('SIGHUP', a)
            process.removeListener('SIGHUP', b)
        }
    })
})
