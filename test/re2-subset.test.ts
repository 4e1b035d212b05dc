/**
 * src/re2-subset.ts against re2js (the RE2 port every other pattern runs in): on seeded random
 * patterns the recogniser accepts and random texts, its yes/no answer is re2js's `test` (Go's
 * MatchString) whenever it gives one, and it gives none for text outside printable ASCII. The seed
 * is in the test name; KEYFLEET_FUZZ_SEED=N replays one.
 */
import { RE2JS } from 're2js'
import { describe, expect, it } from 'vitest'
import { isSimpleValidPattern } from '../src/catalog/pattern-syntax.js'
import { compilePattern } from '../src/re2.js'
import { subsetMatcher } from '../src/re2-subset.js'
import { rng } from './sops/native/differential.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

// Short pieces so that random texts over a similar alphabet match often enough to test both answers.
const TOKENS = ['^', '$', '|', '(', ')', '[', ']', '[^', '-', '\\d', '\\w', '\\s', '\\D', '\\W', '\\S', '\\.', '\\-', '\\|', '\\$', '.', '?', '*', '+',
    '{2}', '{0,1}', '{1,3}', '{2,}', '{0}', 'a', 'b', 'c', 'A', 'Z', '0', '9', '_', '/', ':', ' ', '=', 'a-c', 'A-Z', '0-9', '[ab]', '[^a]', '[a-c0-9]', '[-a]', '[a-]', '[\\d_]', '[^\\w]', 'sk-', 'ab', '(a|b)', '(|a)']
const TEXT = ['a', 'b', 'c', 'A', 'Z', '0', '9', '_', '-', '/', ':', ' ', '=', '.', '|', '$', 'sk-', 'ab', 'x', '%']

describe(`yes/no matching of the recognised subset equals re2js (seed ${SEED})`, () => {
    it('answers as re2js on random patterns and printable-ASCII texts', () => {
        const r = rng(SEED)
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
        let patterns = 0
        let yes = 0
        let no = 0
        for (let n = 0; n < 6_000; n++) {
            let source = ''
            for (let i = 1 + Math.floor(r() * 8); i > 0; i--) source += pick(TOKENS)
            if (!isSimpleValidPattern(source)) continue
            const ours = subsetMatcher(source)
            expect(ours, source).toBeDefined()
            const re = RE2JS.compile(source)
            patterns++
            for (let t = 0; t < 12; t++) {
                let text = ''
                for (let i = Math.floor(r() * 10); i > 0; i--) text += pick(TEXT)
                const expected = re.test(text)
                expect({ source, text, answer: ours?.(text) }).toEqual({ source, text, answer: expected })
                if (expected) yes++; else no++
            }
        }
        // Not vacuous: many patterns, and both answers often.
        expect(patterns).toBeGreaterThan(1_000)
        expect(Math.min(yes, no)).toBeGreaterThan(2_000)
    })

    it('gives no answer for text outside printable ASCII (Go rune rules for ., \\s and negated classes), and compilePattern then asks re2js', () => {
        const ours = subsetMatcher('^a.b$')
        for (const text of ['a\nb', 'a\tb', 'aéb', 'a\u{1F600}b', 'a\u2028b']) {
            expect(ours?.(text), JSON.stringify(text)).toBeUndefined()
            expect(compilePattern('^a.b$', 'test').test(text), JSON.stringify(text)).toBe(RE2JS.compile('^a.b$').test(text))
        }
        expect(ours?.('a-b')).toBe(true)
    })

    it('the catalog\'s own rules: keys match, near misses do not, as in re2js', () => {
        const rules = ['^sk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}$', '^sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}$', '^AIza[0-9A-Za-z_-]{35}$', '^fw_[A-Za-z0-9]{20,}$', '^[A-Za-z0-9]{32}$', '^gw_[A-Za-z0-9]{24,}$']
        const texts = ['sk-ant-api03-' + 'a'.repeat(32), 'sk-ant-api03-' + 'a'.repeat(31), 'sk-proj-' + 'b'.repeat(20), 'sk-' + 'b'.repeat(19), 'AIza' + 'c'.repeat(35), 'AIza' + 'c'.repeat(36), 'fw_' + 'd'.repeat(20), 'e'.repeat(32), 'e'.repeat(33), 'gw_' + 'f'.repeat(24), ' sk-proj-' + 'b'.repeat(20)]
        let yes = 0
        for (const rule of rules) {
            const ours = subsetMatcher(rule)
            for (const text of texts) {
                const expected = RE2JS.compile(rule).test(text)
                if (expected) yes++
                expect({ rule, text, answer: ours?.(text) }).toEqual({ rule, text, answer: expected })
            }
        }
        expect(yes).toBeGreaterThanOrEqual(6)
    })
})
