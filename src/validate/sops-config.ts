/**
 * Reads `.sops.yaml` the way sops does for creation rules: rules in order,
 * the first whose `path_regex` matches (unanchored) the repo-relative path
 * wins, a rule without `path_regex` matches everything, `age:` is a list or
 * a comma-separated string, and `key_groups` (when present) replaces the
 * flat key lists.
 */
import type { Finding } from '../findings.js'
import { isSimpleValidPattern } from '../catalog/pattern-syntax.js'
import { lazyPattern, patternError, tryCompilePattern, type Pattern } from '../re2.js'
import { parseYamlSource } from '../yaml-source.js'
import { finding } from './codes.js'
import { directoryRule } from './path-rule.js'

/** One creation rule with the line it starts on. */
export interface CreationRule {
    /** Go RE2, matched unanchored like sops' `regexp.MatchString` (src/re2.ts). */
    readonly pathRegex: Pattern | undefined
    /** Age recipients, trimmed, in file order, without duplicates. */
    readonly age: readonly string[]
    readonly line: number
    /** Position in `creation_rules` (rules that failed to parse are left out of the list but keep their index). */
    readonly index: number
}

/** A parsed `.sops.yaml`. */
export interface SopsConfig {
    readonly file: string
    readonly rules: readonly CreationRule[]
}

/** Result of {@link parseSopsConfig}: rules that parsed, plus findings for those that did not. */
export interface ParsedSopsConfig {
    readonly config: SopsConfig
    readonly findings: readonly Finding[]
}

const splitAge = (value: unknown): string[] | undefined => {
    if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((s: string) => s.trim()).filter((s) => s.length > 0)
    return undefined
}

/**
 * Parses `.sops.yaml` text. Never throws: problems become KF122 findings and
 * the broken rule is left out (so matching falls through as sops would not;
 * the finding says so).
 */
export const parseSopsConfig = (text: string, file = '.sops.yaml'): ParsedSopsConfig => {
    const src = parseYamlSource(text, file)
    const findings: Finding[] = src.syntaxErrors.map((e) => finding('KF122', file, e.line, `YAML syntax: ${e.message}`))
    if (findings.length > 0) return { config: { file, rules: [] }, findings }
    const rulesNode = src.at(['creation_rules'])
    if (rulesNode?.kind !== 'seq') {
        findings.push(finding('KF122', file, src.lineOf(['creation_rules']), '`creation_rules` must be a list of rules with `path_regex` and `age`'))
        return { config: { file, rules: [] }, findings }
    }
    const rules: CreationRule[] = []
    rulesNode.items.forEach((node, i) => {
        const line = src.lineOf(['creation_rules', i])
        if (node.kind !== 'map') { findings.push(finding('KF122', file, line, `creation rule ${i + 1} must be a mapping`)); return }
        const raw = (node.toJSON() ?? {}) as Record<string, unknown>
        let pathRegex: Pattern | undefined
        // sops treats an empty (or null) path_regex as "matches everything", like a missing one (config.go parseCreationRuleForFile).
        if (raw.path_regex !== undefined && raw.path_regex !== null && raw.path_regex !== '') {
            // A simple rule (`^environments/dev/[^/]+$`) compiles when a path is first matched against it (issue 15);
            // any other compiles now, so that an invalid one is reported here, with re2js's reason.
            if (typeof raw.path_regex === 'string') pathRegex = directoryRule(raw.path_regex) ?? (isSimpleValidPattern(raw.path_regex) ? lazyPattern(raw.path_regex) : undefined)
            const reason = pathRegex !== undefined ? undefined : typeof raw.path_regex === 'string' ? patternError(raw.path_regex) : 'not a string'
            if (pathRegex === undefined && reason === undefined) pathRegex = tryCompilePattern(raw.path_regex as string)
            if (pathRegex === undefined) {
                findings.push(finding('KF122', file, src.lineOf(['creation_rules', i, 'path_regex']), `creation rule ${i + 1}: \`path_regex\` is not a valid RE2 regular expression (${reason ?? 'does not compile'}); sops uses Go regexp syntax`))
                return
            }
        }
        let age: string[] = []
        if (Array.isArray(raw.key_groups)) {
            // Several groups: the file is encrypted to every age recipient of every group.
            for (const group of raw.key_groups as unknown[]) {
                const list = splitAge((group as Record<string, unknown> | null)?.age ?? [])
                if (list) age.push(...list)
            }
        } else if (raw.age !== undefined) {
            const list = splitAge(raw.age)
            if (!list) { findings.push(finding('KF122', file, src.lineOf(['creation_rules', i, 'age']), `creation rule ${i + 1}: \`age\` must be a list or a comma-separated string of recipients`)); return }
            age = list
        }
        rules.push({ pathRegex, age: [...new Set(age)], line, index: i })
    })
    return { config: { file, rules }, findings }
}

/** The first rule matching `path` (repo-relative, forward slashes), as sops picks it. */
export const matchRule = (config: SopsConfig, path: string): CreationRule | undefined =>
    config.rules.find((rule) => rule.pathRegex === undefined || rule.pathRegex.test(path))
