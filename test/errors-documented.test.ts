import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { collectCodes } from '../scripts/errors-doc.js'
import { repoRoot } from './helpers/tools.js'

describe('error codes', () => {
    const codes = collectCodes(repoRoot)
    const doc = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8')

    it('are found in the source (the collector works)', () => {
        for (const code of ['SOPS_MAC_MISMATCH', 'NATIVE_MAC_MISMATCH', 'LOADER_KEY_MISSING', 'VALUE_FORMAT', 'AGE_BAD_RECIPIENT']) expect(codes.has(code), code).toBe(true)
    })

    it('are each documented in docs/errors.md (regenerate: npm run build && node dist/scripts/errors-doc.js)', () => {
        const missing = [...codes.keys()].filter((code) => !doc.includes(`| \`${code}\` |`))
        expect(missing).toEqual([])
    })

    it('are UPPER_SNAKE', () => {
        for (const code of codes.keys()) expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/)
    })
})
