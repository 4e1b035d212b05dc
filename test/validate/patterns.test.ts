/**
 * The scan's cheap pre-check (validate/patterns.ts `requiredText`): a detector runs the RE2 engine only on
 * lines holding its required text, so that text must be in every match, or a key would go unseen. Held to
 * re2js itself on seeded random patterns and texts (the seed is in the test name; KEYFLEET_FUZZ_SEED=N
 * replays one): every match re2js finds contains the required text.
 */
import { RE2JS } from 're2js'
import { describe, expect, it } from 'vitest'
import { WELL_KNOWN, requiredText } from '../../src/validate/patterns.js'
import { rng } from '../sops/native/differential.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

// Pattern pieces: literals first (so most patterns have a prefix), groups with alternation, classes, quantifiers, escapes.
const TOKENS = ['ab', 'sk-', 'a', 'b', 'c', '-', '_', '|', '(', ')', '(a|b)', '(ab|c)', '(-|_)', '[a-c]', '[^a]', '\\|', '\\-', '\\.', '.', '?', '*', '+', '{2}', '{1,3}', '(?:', '(?i)', '\\Q|\\E', '[[:alpha:]]', '[|]', '^', '$']
const TEXT = ['a', 'b', 'c', 'ab', 'sk-', '-', '_', '|', '.', 'A', 'B', ' ', 'x']

describe(`scan pre-check: every match holds the required text (seed ${SEED})`, () => {
    it('re2js never finds a match without it, on random patterns and texts', () => {
        const r = rng(SEED)
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
        let matched = 0
        let withPrefixAndAlternation = 0
        for (let n = 0; n < 6_000; n++) {
            let source = ''
            for (let i = 1 + Math.floor(r() * 6); i > 0; i--) source += pick(TOKENS)
            let re: RE2JS
            try { re = RE2JS.compile(source) } catch { continue }
            const required = requiredText(source)
            if (required !== '' && source.includes('|')) withPrefixAndAlternation++
            for (let t = 0; t < 8; t++) {
                let text = ''
                for (let i = Math.floor(r() * 12); i > 0; i--) text += pick(TEXT)
                const m = re.matcher(text)
                let from = 0
                while (from <= text.length && m.find(from)) {
                    matched++
                    const found = m.group(0) ?? ''
                    expect({ source, text, found, holds: found.includes(required) }).toEqual({ source, text, found, holds: true })
                    from = m.end(0) > from ? m.end(0) : from + 1
                }
            }
        }
        // Not vacuous: many matches, and the case this guards (an alternation after a prefix) is reached.
        expect(matched).toBeGreaterThan(2_000)
        expect(withPrefixAndAlternation).toBeGreaterThan(50)
    })

    it('keeps the prefix before a grouped alternation, drops it for a top-level one or an unreadable pattern', () => {
        expect(requiredText('sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}')).toBe('sk-')
        expect(requiredText('sk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}')).toBe('sk-ant-')
        expect(requiredText('ab\\|c')).toBe('ab')
        expect(requiredText('sk-a|tok_b')).toBe('')
        expect(requiredText('sk-(?:a|b)')).toBe('')
        expect(requiredText('abc?')).toBe('ab')
        // Outside the recogniser's subset: a flag group passes the star back to the prefix's last character.
        expect(requiredText('sk-\\-(?i)*.')).toBe('')
        for (const { source } of WELL_KNOWN) expect(requiredText(source), source).not.toBe('')
    })
})
