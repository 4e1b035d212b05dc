import * as core from '@actions/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MIN_FRAGMENT_LENGTH, maskAll, maskForms } from '../../src/action/mask.js'
import { leakForms, makeCanary } from '../helpers/canary.js'

/** Runs `fn` with process.stdout.write captured; returns what was written. */
const captureStdout = (fn: () => void): string => {
    let out = ''
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
        return true
    })
    try {
        fn()
    } finally {
        spy.mockRestore()
    }
    return out
}

afterEach(() => vi.restoreAllMocks())

describe('maskForms', () => {
    it('lists the value, its base64 at every alignment and its hex, worked out by hand for "abcdef"', () => {
        // base64("abcdef") = YWJjZGVm; base64("\0abcdef") = AGFiY2RlZg== -> chars 2..8;
        // base64("\0\0abcdef") = AABhYmNkZWY= -> chars 3..9; URL and JSON forms equal the value.
        expect(maskForms('abcdef')).toEqual(['abcdef', 'YWJjZGVm', 'FiY2RlZ', 'hYmNkZW', '616263646566'])
    })

    it('masks a value whatever its length, but no 1-3 character base64 fragments', () => {
        const forms = maskForms('ab')
        expect(forms[0]).toBe('ab')
        expect(forms).toContain('YWI=')
        expect(forms).toContain('YWI')
        // The aligned fragments of "ab" are YW, Fi and hY: two characters would mask half the log.
        expect(MIN_FRAGMENT_LENGTH).toBe(4)
        for (const fragment of ['YW', 'Fi', 'hY']) expect(forms).not.toContain(fragment)
    })

    it('returns nothing for an empty value', () => {
        expect(maskForms('')).toEqual([])
    })

    it('adds each non-blank line of a multi-line value, and its URL and JSON forms', () => {
        const forms = maskForms('line one\r\n\n  \nline "two"/x')
        expect(forms).toContain('line one')
        expect(forms).toContain('line "two"/x')
        expect(forms).not.toContain('  ')
        expect(forms).toContain('line%20one%0D%0A%0A%20%20%0Aline%20%22two%22%2Fx')
        expect(forms).toContain('line one\\r\\n\\n  \\nline \\"two\\"/x')
    })

    it('covers every leak form the canary search looks for', () => {
        const canary = makeCanary()
        const forms = maskForms(canary)
        for (const leak of leakForms(canary)) {
            expect(forms.some((form) => leak.includes(form)), `leak form ${leak} is masked`).toBe(true)
        }
    })

    it('finds the value inside base64 of any surrounding text (runner#284)', () => {
        fc.assert(fc.property(
            // From 4 bytes on, every alignment leaves a fragment of at least MIN_FRAGMENT_LENGTH.
            fc.string({ minLength: 4, maxLength: 60 }),
            fc.uint8Array({ maxLength: 7 }),
            fc.uint8Array({ maxLength: 7 }),
            (value, prefix, suffix) => {
                const forms = maskForms(value)
                const embedded = Buffer.concat([Buffer.from(prefix), Buffer.from(value), Buffer.from(suffix)])
                for (const alphabet of ['base64', 'base64url'] as const) {
                    const text = embedded.toString(alphabet)
                    if (!forms.some((form) => form !== value && text.includes(form))) return false
                }
                return true
            },
        ), { numRuns: 500 })
    })
})

describe('maskAll with @actions/core', () => {
    it('writes one ::add-mask:: line per form, escaped the way the runner reads them', () => {
        const out = captureStdout(() => maskAll(['abcdef'], core.setSecret))
        expect(out).toBe([
            '::add-mask::abcdef',
            '::add-mask::YWJjZGVm',
            '::add-mask::FiY2RlZ',
            '::add-mask::hYmNkZW',
            '::add-mask::616263646566',
            '',
        ].join('\n'))
    })

    it('escapes %, CR and LF so a multi-line value stays one command', () => {
        const out = captureStdout(() => maskAll(['50%\nof it'], core.setSecret))
        const lines = out.split('\n')
        expect(lines[0]).toBe('::add-mask::50%25%0Aof it')
        expect(lines[1]).toBe('::add-mask::50%25')
        expect(lines[2]).toBe('::add-mask::of it')
        expect(lines.slice(0, -1).every((line) => line.startsWith('::add-mask::'))).toBe(true)
    })

    it('issues each form once across values and returns the count', () => {
        const seen: string[] = []
        const count = maskAll(['abcdef', 'abcdef', ''], (s) => seen.push(s))
        expect(count).toBe(5)
        expect(seen).toEqual(maskForms('abcdef'))
    })
})
