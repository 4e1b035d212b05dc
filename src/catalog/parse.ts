/**
 * Reads `environments/keyfleet.yaml` into a {@link Catalog}, reporting every
 * schema problem with its line instead of stopping at the first.
 */
import { readFileSync } from 'node:fs'
import { KeyfleetError } from '../errors.js'
import { lazyPattern, patternError, tryCompilePattern, type Pattern } from '../re2.js'
import { parseYamlSource } from '../yaml-source.js'
import { isSimpleValidPattern } from './pattern-syntax.js'
import { VARIANT_SEPARATOR } from './region.js'
import type { Catalog, CatalogProblem, ProbeSpec, SecretSpec } from './types.js'

/** UPPER_SNAKE environment-variable names. */
export const NAME_PATTERN = /^[A-Z][A-Z0-9_]*$/
const SERVICE_PATTERN = /^[a-z][a-z0-9-]*$/
const ENV_PATTERN = /^[a-z][a-z0-9-]*$/
const PROVIDER_KEYS = new Set(['title', 'env', 'aliases', 'format', 'required_in', 'probe', 'weights'])
const CUSTOM_KEYS = new Set(['service', 'title', 'aliases', 'format', 'required_in', 'weights'])
const PROBE_KEYS = new Set(['base_url', 'path', 'auth', 'headers'])
const AUTH = new Set(['bearer', 'x-api-key', 'x-goog-api-key'])

/** Result of {@link parseCatalog}: a catalog when there were no problems. */
export interface ParsedCatalog {
    readonly catalog: Catalog | undefined
    readonly problems: readonly CatalogProblem[]
}

/**
 * Parses catalog text. Never throws; returns `catalog: undefined` with
 * problems (each with a 1-based line) when the text breaks the schema.
 */
export const parseCatalog = (text: string, file = 'environments/keyfleet.yaml'): ParsedCatalog => {
    const src = parseYamlSource(text, file)
    const problems: CatalogProblem[] = src.syntaxErrors.map((e) => ({ line: e.line, message: `YAML syntax: ${e.message}` }))
    if (problems.length > 0) return { catalog: undefined, problems }
    const problem = (path: (string | number)[], message: string): void => {
        problems.push({ line: src.lineOf(path), message })
    }
    const root: unknown = src.toJS()
    if (!isRecord(root)) return { catalog: undefined, problems: [{ line: 1, message: 'the catalog must be a mapping with `version`, `environments` and `providers`' }] }
    for (const key of Object.keys(root)) {
        if (!['version', 'environments', 'providers', 'custom'].includes(key)) problem([key], `unknown top-level key "${key}" (expected version, environments, providers, custom)`)
    }
    if (root.version !== 1) problem(['version'], '`version` must be 1')
    const environments = stringList(root.environments, ['environments'], problem, ENV_PATTERN, 'environment names must be lowercase, e.g. dev')
    if (environments.length === 0) problem(['environments'], '`environments` must list at least one environment, in promotion order')
    const secrets: SecretSpec[] = []
    const seen = new Map<string, string>()
    const claim = (name: string, owner: string, path: (string | number)[]): void => {
        // `__` separates a regional variant's region (src/catalog/region.ts): a name holding it would be ambiguous.
        if (name.includes(VARIANT_SEPARATOR)) problem(path, `${name} contains "${VARIANT_SEPARATOR}", which keyfleet reserves for regional variants (NAME__EU): rename it`)
        // TOKEN_ would store its eu variant as TOKEN___EU, which splits at the first `__` into TOKEN + _EU.
        else if (name.endsWith('_')) problem(path, `${name} ends with "_": its regional variant (${name}${VARIANT_SEPARATOR}EU) could not be told apart from another name's; rename it`)
        const prior = seen.get(name)
        if (prior !== undefined) problem(path, `the name ${name} is used by both ${prior} and ${owner}`)
        seen.set(name, owner)
    }
    const sections: ['providers' | 'custom', boolean][] = [['providers', false], ['custom', true]]
    for (const [section, custom] of sections) {
        const node = src.at([section])
        if (node === undefined) { if (!custom) problem([], '`providers` is missing'); continue }
        if (node.kind !== 'map') { problem([section], `\`${section}\` must be a mapping`); continue }
        for (const key of node.keys) {
            const path = [section, key]
            const spec = readSpec(key, (root[section] as Record<string, unknown>)[key], custom, path, problem, environments)
            if (!spec) continue
            claim(spec.name, `${section}.${key}`, custom ? path : [...path, 'env'])
            spec.aliases.forEach((alias, i) => claim(alias, `${section}.${key}`, [...path, 'aliases', i]))
            secrets.push(spec)
        }
    }
    return problems.length > 0 ? { catalog: undefined, problems } : { catalog: { environments, secrets }, problems }
}

/**
 * Reads and parses a catalog file.
 * @throws KeyfleetError `CATALOG_INVALID` listing each problem with its line, or `CATALOG_NOT_FOUND`.
 */
export const loadCatalog = (path: string): Catalog => {
    let text: string
    try {
        text = readFileSync(path, 'utf8')
    } catch (cause) {
        throw new KeyfleetError('CATALOG_NOT_FOUND', `cannot read the catalog ${path}: create it (see docs/catalog.md) or run keyfleet from the repository root`, { cause, file: path })
    }
    const { catalog, problems } = parseCatalog(text, path)
    if (!catalog) {
        const list = problems.map((p) => `  ${path}:${p.line}: ${p.message}`).join('\n')
        throw new KeyfleetError('CATALOG_INVALID', `the catalog ${path} is invalid; fix these and retry:\n${list}`, { file: path, line: problems[0]?.line })
    }
    return catalog
}

type Report = (path: (string | number)[], message: string) => void

const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value)

const stringList = (value: unknown, path: (string | number)[], report: Report, pattern?: RegExp, hint?: string): string[] => {
    if (value === undefined) return []
    if (!Array.isArray(value)) { report(path, 'expected a list of strings'); return [] }
    const out: string[] = []
    value.forEach((item, i) => {
        if (typeof item !== 'string') report([...path, i], 'expected a string')
        else if (pattern && !pattern.test(item)) report([...path, i], `"${item}" is not valid: ${hint ?? ''}`)
        else out.push(item)
    })
    return out
}

const readSpec = (
    key: string, raw: unknown, custom: boolean, path: (string | number)[], report: Report, environments: string[],
): SecretSpec | undefined => {
    if (!isRecord(raw)) { report(path, `${key} must be a mapping`); return undefined }
    const allowed = custom ? CUSTOM_KEYS : PROVIDER_KEYS
    for (const field of Object.keys(raw)) {
        if (!allowed.has(field)) report([...path, field], `unknown field "${field}" (allowed: ${[...allowed].join(', ')})`)
    }
    const name = custom ? key : raw.env
    const service = custom ? raw.service : key
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
        report(custom ? path : [...path, 'env'], custom ? `custom secret "${key}" must be an UPPER_SNAKE name` : '`env` must be the UPPER_SNAKE env name, e.g. OPENAI_API_KEY')
        return undefined
    }
    if (typeof service !== 'string' || !SERVICE_PATTERN.test(service)) {
        report(custom ? [...path, 'service'] : path, custom ? '`service` must be a lowercase service name, e.g. gateway' : `provider "${key}" must be a lowercase service name`)
        return undefined
    }
    const aliases = stringList(raw.aliases, [...path, 'aliases'], report, NAME_PATTERN, 'aliases are UPPER_SNAKE names')
    const requiredIn = stringList(raw.required_in, [...path, 'required_in'], report)
    requiredIn.forEach((env, i) => {
        if (!environments.includes(env)) report([...path, 'required_in', i], `"${env}" is not one of the environments (${environments.join(', ')})`)
    })
    let format: Pattern | undefined
    if (raw.format !== undefined) {
        // RE2, not RegExp: the catalog is PR-controlled and a backtracking rule could stall the check (src/re2.ts).
        // A rule of the simple shape every provider key has is compiled on first use (start-up budget, issue 15);
        // any other is compiled now, so that an invalid one is reported here, with re2js's reason.
        if (typeof raw.format === 'string' && isSimpleValidPattern(raw.format)) format = lazyPattern(raw.format)
        const reason = format !== undefined ? undefined : typeof raw.format === 'string' ? patternError(raw.format) : 'not a string'
        if (format === undefined && reason === undefined) format = tryCompilePattern(raw.format as string)
        if (format === undefined) report([...path, 'format'], `\`format\` must be a valid RE2 regular expression string (${reason ?? 'does not compile'}); use Go regexp syntax: no look-around or back-references`)
    }
    const probe = custom ? undefined : readProbe(raw.probe, [...path, 'probe'], report)
    const title = typeof raw.title === 'string' ? raw.title : service
    const weights = readWeights(raw.weights, name, [...path, 'weights'], report)
    return { name, service, title, aliases, format, requiredIn, probe, custom, ...(weights ? { weights } : {}) }
}

// Pool member weights for the loader's selection (docs/loader.md): `{ OPENAI_API_KEY_2: 3 }`.
const readWeights = (raw: unknown, name: string, path: (string | number)[], report: Report): Record<string, number> | undefined => {
    if (raw === undefined) return undefined
    if (!isRecord(raw)) { report(path, '`weights` must map pool members to positive numbers, e.g. { OPENAI_API_KEY_2: 3 }'); return undefined }
    const out: Record<string, number> = {}
    for (const [member, weight] of Object.entries(raw)) {
        const ok = member === name || (member.startsWith(`${name}_`) && /^([2-9]|[1-9][0-9]+)$/.test(member.slice(name.length + 1)))
        if (!ok) report([...path, member], `"${member}" is not a pool member of ${name} (${name}, ${name}_2, …)`)
        else if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) report([...path, member], `the weight of ${member} must be a positive number`)
        else out[member] = weight
    }
    return out
}

const readProbe = (raw: unknown, path: (string | number)[], report: Report): ProbeSpec | undefined => {
    if (raw === undefined) return undefined
    if (!isRecord(raw)) { report(path, '`probe` must be a mapping'); return undefined }
    for (const field of Object.keys(raw)) if (!PROBE_KEYS.has(field)) report([...path, field], `unknown probe field "${field}"`)
    const { base_url: baseUrl, path: urlPath, auth, headers = {} } = raw
    if (typeof baseUrl !== 'string' || !/^https?:\/\/[^\s]+$/.test(baseUrl)) { report([...path, 'base_url'], '`base_url` must be an http(s) URL'); return undefined }
    if (typeof urlPath !== 'string' || !urlPath.startsWith('/')) { report([...path, 'path'], '`path` must start with /'); return undefined }
    if (typeof auth !== 'string' || !AUTH.has(auth)) { report([...path, 'auth'], '`auth` must be bearer, x-api-key or x-goog-api-key'); return undefined }
    if (!isRecord(headers) || !Object.values(headers).every((v) => typeof v === 'string')) { report([...path, 'headers'], '`headers` must map names to strings'); return undefined }
    return { baseUrl: baseUrl.replace(/\/+$/, ''), path: urlPath, auth: auth as ProbeSpec['auth'], headers: headers as Record<string, string> }
}
