/**
 * The catalog's cheap format check (catalog/pattern-syntax.ts) against re2js, the RE2 port every rule runs
 * in: whatever it calls valid, re2js compiles, on seeded random patterns (the seed is in the test name;
 * KEYFLEET_FUZZ_SEED=N replays one). And loading the demo catalog compiles none of its rules, while an
 * invalid rule is still reported at load with re2js's reason.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RE2JS } from 're2js'
import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../src/catalog/parse.js'
import { matchRule, parseSopsConfig } from '../../src/validate/sops-config.js'
import { isSimpleValidPattern } from '../../src/catalog/pattern-syntax.js'
import { patternError } from '../../src/re2.js'
import { repoRoot } from '../helpers/tools.js'
import { rng } from '../sops/native/differential.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

const compiles = (source: string): boolean => {
    try { RE2JS.compile(source); return true } catch { return false }
}

const TOKENS = ['^', '$', '|', '(', ')', '(?:', '(?i)', '[', ']', '[^', '-', '\\', '\\d', '\\w', '\\s', '\\.', '\\-', '\\_', '\\b', '\\p',
    '\\Q', '\\x', '\\1', '\\z', '.', '?', '*', '+', '??', '{', '}', ',', '{2}', '{2,}', '{1,3}', '{3,1}', '{100}', '{101}', '{1000}', '{1001}',
    'a', 'z', 'A', 'Z', '0', '9', '_', '/', ':', '@', '=', ' ', '#', '~', 'é', '\u0000', 'a-z', 'z-a', 'A-Za-z0-9', '0-9', '_-', ']', '[]', '[a-]', '[-a]', '[--]', '[^/]', '.-/', '/-.', '[/.]', 'environments/']

describe(`catalog format check: a subset of RE2 (seed ${SEED})`, () => {
    it('re2js compiles every pattern the cheap check accepts (random token strings)', () => {
        const r = rng(SEED)
        let accepted = 0
        for (let n = 0; n < 20_000; n++) {
            const length = 1 + Math.floor(r() * 12)
            let source = ''
            for (let i = 0; i < length; i++) source += TOKENS[Math.floor(r() * TOKENS.length)] as string
            if (!isSimpleValidPattern(source)) continue
            accepted++
            expect({ source, compiles: compiles(source) }).toEqual({ source, compiles: true })
        }
        // Not vacuous: a good share of the random strings fall in the subset.
        expect(accepted).toBeGreaterThan(1000)
    })

    it('accepts the shape of provider key rules, and leaves flags, look-around, back-references and big counts to re2js', () => {
        for (const ok of ['^sk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}$', '^AIza[0-9A-Za-z_-]{35}$', '^xox[bp]-[0-9]+-[A-Za-z0-9-]+$', '^(ghp|gho)_[A-Za-z0-9]{36}$', 'ab\\.c+', '^environments/dev/[^/]+$', '[.,:@= /]']) {
            expect(isSimpleValidPattern(ok), ok).toBe(true)
        }
        for (const other of ['(?i)^tok_', '^tok_(?!x)', '(a)\\1', 'a{1001}', 'a{101}', '(ab){3}', 'a**', 'a+?', '[z-a]', '[]a]', '\\pL', '', 'a{,3}', 'é', '[.-/]']) {
            expect(isSimpleValidPattern(other), other).toBe(false)
        }
    })

    it('reading and matching the demo .sops.yaml compiles no path_regex; an invalid one is reported at load', () => {
        const before = RE2JS.compile
        let calls = 0
        RE2JS.compile = ((...args: Parameters<typeof before>) => { calls++; return before(...args) })
        try {
            const { config, findings } = parseSopsConfig(readFileSync(join(repoRoot, '.sops.yaml'), 'utf8'))
            expect(findings).toEqual([])
            expect(config.rules.length).toBe(3)
            expect(calls).toBe(0)
            expect(matchRule(config, 'environments/stage/env.secrets')?.index).toBe(1)
            expect(matchRule(config, 'environments/stage/x/env.secrets')).toBeUndefined()
            // keyfleet's own rule shape is matched without re2js at all (validate/path-rule.ts).
            expect(calls).toBe(0)
        } finally {
            RE2JS.compile = before
        }
        for (const bad of ['^env/(?!x)', '[z-a]', '(a']) {
            const { findings } = parseSopsConfig(`creation_rules:\n  - path_regex: '${bad}'\n    age: age1x\n`)
            expect(findings.map((f) => f.message)).toEqual([`creation rule 1: \`path_regex\` is not a valid RE2 regular expression (${patternError(bad) ?? ''}); sops uses Go regexp syntax`])
        }
    })

    it('loading the demo catalog compiles none of its rules, nor does testing a key-shaped value; an invalid rule is reported at load as before', () => {
        const before = RE2JS.compile
        let calls = 0
        RE2JS.compile = ((...args: Parameters<typeof before>) => { calls++; return before(...args) })
        try {
            const { catalog } = parseCatalog(readFileSync(join(repoRoot, 'environments', 'keyfleet.yaml'), 'utf8'))
            expect(catalog?.secrets.filter((s) => s.format !== undefined).length).toBeGreaterThan(3)
            expect(calls).toBe(0)
            // Used on a key's shape (printable ASCII), a rule answers without re2js (src/re2-subset.ts) ...
            const openai = catalog?.secrets.find((s) => s.name === 'OPENAI_API_KEY')?.format
            expect(openai?.test('sk-proj-abcdefghijklmnopqrstuvwxyz')).toBe(true)
            expect(calls).toBe(0)
            // ... and on any other text it compiles in re2js, which answers.
            expect(openai?.test('sk-proj-abcdefghijklmnopqrstuvwxyzé')).toBe(false)
            expect(calls).toBe(1)
        } finally {
            RE2JS.compile = before
        }
        const head = 'version: 1\nenvironments: [dev]\nproviders: {}\ncustom:\n  MY_TOKEN:\n    service: gateway\n'
        for (const bad of ['^tok_(?!x)', 'a{1001}', '[z-a]', '(a']) {
            const { catalog, problems } = parseCatalog(`${head}    format: '${bad}'\n`)
            expect(catalog).toBeUndefined()
            expect(problems).toEqual([{ line: 7, message: `\`format\` must be a valid RE2 regular expression string (${patternError(bad) ?? ''}); use Go regexp syntax: no look-around or back-references` }])
        }
    })
})
