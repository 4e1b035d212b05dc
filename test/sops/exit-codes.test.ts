import { describe, expect, it } from 'vitest'
import { SopsExit, sopsError } from '../../src/sops/index.js'

const map = (exitCode: number | undefined, stderr = '', timedOut = false) =>
    sopsError({ exitCode, stderr, timedOut, operation: 'set', file: 'environments/dev/env.secrets' })

describe('sops exit codes map to stable keyfleet codes', () => {
    it.each([
        [SopsExit.macMismatch, '', 'SOPS_MAC_MISMATCH'],
        [SopsExit.couldNotRetrieveKey, '', 'SOPS_COULD_NOT_RETRIEVE_KEY'],
        [SopsExit.configFileNotFound, '', 'SOPS_CONFIG_NOT_FOUND'],
        [SopsExit.fileAlreadyEncrypted, '', 'SOPS_ALREADY_ENCRYPTED'],
        [1, 'error loading config: no matching creation rules found', 'SOPS_NO_CREATION_RULE'],
        [1, 'error loading config: Could not unmarshal config file: yaml: line 1', 'SOPS_CONFIG_INVALID'],
        [1, 'Key not found: X', 'SOPS_KEY_NOT_FOUND'],
        [1, 'something new', 'SOPS_FAILED'],
    ])('exit %s (%s) -> %s', (exit, stderr, code) => {
        const error = map(exit, stderr)
        expect(error.code).toBe(code)
        expect(error.message).toContain('environments/dev/env.secrets')
    })

    it('reports a timeout', () => {
        expect(map(undefined, '', true).code).toBe('SOPS_TIMEOUT')
    })

    it('never repeats what sops printed', () => {
        const leaked = 'OPENAI_API_KEY=sk-proj-leakedleakedleaked'
        for (const exit of [1, 2, 51, 128, 200, 203]) expect(map(exit, leaked).message).not.toContain('leaked')
    })
})
