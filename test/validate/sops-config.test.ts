/**
 * `.sops.yaml` creation rules as sops reads them (KF122 on problems).
 */
import { describe, expect, test } from 'vitest'
import { matchRule, parseSopsConfig } from '../../src/validate/index.js'

describe('.sops.yaml', () => {
    test('age as a list with trailing comments, or a comma-separated string; first match wins; unanchored', () => {
        const { config, findings } = parseSopsConfig(`creation_rules:
  - path_regex: dev/[^/]+$
    age:
      - age1aaa # ci:dev
      - age1bbb   # admin
  - path_regex: environments/
    age: 'age1ccc, age1ddd,age1eee'
  - age: age1fff
`)
        expect(findings).toEqual([])
        expect(matchRule(config, 'environments/dev/env.secrets')?.age).toEqual(['age1aaa', 'age1bbb'])
        expect(matchRule(config, 'environments/prod/env.secrets')?.age).toEqual(['age1ccc', 'age1ddd', 'age1eee'])
        expect(matchRule(config, 'elsewhere/x')?.age).toEqual(['age1fff'])
    })

    test('key_groups contribute every group\'s age recipients', () => {
        const { config } = parseSopsConfig('creation_rules:\n  - path_regex: x\n    key_groups:\n      - age: [age1a]\n      - age: [age1b]\n')
        expect(matchRule(config, 'x')?.age).toEqual(['age1a', 'age1b'])
    })

    test('no rule matches: undefined', () => {
        const { config } = parseSopsConfig('creation_rules:\n  - path_regex: ^prod/\n    age: age1a\n')
        expect(matchRule(config, 'environments/prod/env.secrets')).toBeUndefined()
    })

    test('KF122: bad YAML, missing creation_rules, invalid regex, bad age type, each with a line', () => {
        expect(parseSopsConfig('creation_rules: [\n').findings[0]).toMatchObject({ code: 'KF122' })
        expect(parseSopsConfig('stores: {}\n').findings.map((f) => f.code)).toEqual(['KF122'])
        const bad = parseSopsConfig('creation_rules:\n  - path_regex: "("\n    age: age1a\n  - path_regex: x\n    age: {a: 1}\n')
        expect(bad.findings.map((f) => [f.code, f.line])).toEqual([['KF122', 2], ['KF122', 5]])
        expect(bad.config.rules).toEqual([])
    })
})
