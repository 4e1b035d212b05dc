/**
 * src/re2.ts and its call sites: Go RE2 syntax and meaning, linear time, typed
 * errors; `.sops.yaml` rule choice checked against the real sops.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinCatalog, builtinSecrets, indexCatalog, parseCatalog } from '../src/catalog/index.js'
import { isKeyfleetError } from '../src/errors.js'
import { compilePattern, findAll, patternError } from '../src/re2.js'
import { matchLine, prefixDetectors } from '../src/validate/patterns.js'
import { matchRule, parseSopsConfig } from '../src/validate/index.js'
import { sopsPath } from './helpers/tools.js'
import { newKey } from './sops/native/helpers.js'

describe('compilePattern', () => {
    it('takes Go syntax JavaScript rejects, with Go meaning', () => {
        expect(compilePattern('(?i)prod', 't').test('environments/PROD/env.secrets')).toBe(true)
        expect(compilePattern('[[:upper:]]{3}', 't').test('xABC')).toBe(true)
        expect(compilePattern('\\Qa.b\\E', 't').test('axb')).toBe(false)
        // \s is ASCII in RE2: no NBSP, no vertical tab.
        expect(compilePattern('\\s', 't').test('a\u00a0b')).toBe(false)
        expect(compilePattern('\\s', 't').test('a\u000bb')).toBe(false)
        // `.` is one code point; unanchored search like MatchString.
        expect(compilePattern('^.{3}$', 't').test('a\u{1F600}b')).toBe(true)
        expect(compilePattern('b', 't').test('abc')).toBe(true)
        // Simple case folding: the Kelvin sign folds to k.
        expect(compilePattern('(?i)k', 't').test('\u212a')).toBe(true)
    })

    it('refuses what RE2 has not (look-around, back-references) with REGEX_INVALID naming the field', () => {
        for (const bad of ['(?<=a)b', 'a(?!b)', '(a)\\1', '(']) {
            let error: unknown
            try { compilePattern(bad, 'path_regex of rule 1') } catch (e) { error = e }
            expect(isKeyfleetError(error) && error.code, bad).toBe('REGEX_INVALID')
            expect((error as Error).message).toContain('path_regex of rule 1')
            expect(patternError(bad)).toBeTypeOf('string')
        }
    })

    it('runs a catastrophic pattern on a long name without backtracking (the test timeout is the guard)', () => {
        const evil = compilePattern('^(A+)+$', 't')
        expect(evil.test(`${'A'.repeat(5000)}!`)).toBe(false)
        expect(evil.test('A'.repeat(5000))).toBe(true)
        expect(compilePattern('(x+x+)+y', 't').test('x'.repeat(10_000))).toBe(false)
    })

    it('every built-in catalog format (compiled lazily) is valid RE2', () => {
        for (const spec of builtinSecrets) expect(patternError(spec.format?.source ?? ''), spec.name).toBeUndefined()
    })

    it('findAll returns UTF-16 offsets and group spans', () => {
        const found = findAll('x(\\d+)', '\u{1F600}x12 x3')
        expect(found.map((m) => [m.start, m.end, m.groups[0], m.spans[0]])).toEqual([[2, 5, '12', [3, 5]], [6, 8, '3', [7, 8]]])
    })
})

describe('call sites', () => {
    it('.sops.yaml: (?i) path_regex is accepted; look-around is a KF122 finding', () => {
        const { config, findings } = parseSopsConfig('creation_rules:\n  - path_regex: (?i)^environments/PROD/\n    age: age1a\n')
        expect(findings).toEqual([])
        expect(matchRule(config, 'environments/prod/env.secrets')?.age).toEqual(['age1a'])
        const bad = parseSopsConfig('creation_rules:\n  - path_regex: (?<=x)y\n    age: age1a\n')
        expect(bad.findings.map((f) => f.code)).toEqual(['KF122'])
        expect(bad.findings[0]?.message).toContain('RE2')
    })

    it('catalog: format is RE2 ((?i) accepted, look-ahead refused); a catastrophic format is harmless in scans', () => {
        const head = 'version: 1\nenvironments: [dev]\nproviders: {}\ncustom:\n  MY_TOKEN:\n    service: gateway\n'
        const ok = parseCatalog(`${head}    format: '(?i)^tok_[a-z0-9]{20}$'\n`)
        expect(ok.problems).toEqual([])
        expect(ok.catalog?.secrets.find((s) => s.name === 'MY_TOKEN')?.format?.test('TOK_ABCDEFGHIJ0123456789')).toBe(true)
        const bad = parseCatalog(`${head}    format: '^tok_(?!x)'\n`)
        expect(bad.problems.map((p) => p.message).join('\n')).toContain('RE2')
        const evil = parseCatalog(`${head}    format: '^AAA(A+)+$'\n`)
        expect(evil.problems).toEqual([])
        const index = indexCatalog(evil.catalog as NonNullable<typeof evil.catalog>)
        expect(matchLine(`MY_TOKEN=${'A'.repeat(3000)}!`, prefixDetectors(index), index)).toEqual([])
    })

    it('scan detectors: boundaries hold without look-around, adjacent keys are both found', () => {
        const index = indexCatalog(builtinCatalog)
        // Built at run time so that the repository's own scan does not flag this file.
        const key = (c: string): string => ['fw', `a8Kd93LmQz7Xw2Pv4Rt6${c}`].join('_')
        const line = `${key('Z')} ${key('Y')} x${key('W')} ${key('V')}-`
        const found = matchLine(line, prefixDetectors(index), index).map((m) => m.value)
        expect(found).toEqual([key('Z'), key('Y')])
    })

    it('scan pre-check: a rule whose last literal character is optional still finds keys without it', () => {
        const parsed = parseCatalog("version: 1\nenvironments: [dev]\nproviders: {}\ncustom:\n  MY_TOKEN:\n    service: gateway\n    format: '^tok_?x[A-Za-z0-9]{20}$'\n")
        const index = indexCatalog(parsed.catalog as NonNullable<typeof parsed.catalog>)
        const value = ['tok', 'xA8Kd93LmQz7Xw2Pv4Rt6'].join('')
        expect(matchLine(`token ${value} here`, prefixDetectors(index), index).map((m) => m.value)).toEqual([value])
    })
})

describe('.sops.yaml rule choice agrees with sops 3.13.2', () => {
    it('sops encrypts to the recipient of the rule matchRule picks', async () => {
        const keys = [await newKey(), await newKey(), await newKey()]
        const rules = `creation_rules:\n  - path_regex: (?i)^ENV/PROD/\n    age: ${keys[0]?.recipient}\n  - path_regex: '\\s'\n    age: ${keys[1]?.recipient}\n  - age: ${keys[2]?.recipient}\n`
        const { config } = parseSopsConfig(rules)
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-re2-'))
        try {
            writeFileSync(join(dir, '.sops.yaml'), rules)
            for (const path of ['env/prod/a.json', 'ENV/Prod/b.json', 'env/dev/c d.json', 'env/dev/c\u00a0d.json', 'env/dev/e.json']) {
                mkdirSync(join(dir, path, '..'), { recursive: true })
                writeFileSync(join(dir, path), '{"k":"v"}')
                const r = spawnSync(sopsPath(), ['encrypt', path], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1' }, encoding: 'utf8' })
                expect(r.status, r.stderr).toBe(0)
                const used = (JSON.parse(r.stdout) as { sops: { age: { recipient: string }[] } }).sops.age.map((a) => a.recipient)
                expect(used, path).toEqual(matchRule(config, path)?.age)
            }
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })
})
