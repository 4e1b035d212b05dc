/**
 * Creating and removing environments: the `.sops.yaml` creation rule, the
 * catalog's `environments:` entry, an empty sops-written env.secrets and a
 * deployment.yaml with no agents. Text in, text out (yaml Document API, so
 * comments and order survive); the CLI decides what to write.
 */
import { isMap, isScalar, isSeq, parseDocument, Scalar, YAMLMap, YAMLSeq, type Document } from 'yaml'
import { assertRecipient } from '../age/index.js'
import { builtinSecrets } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import { CATALOG_PATH, SOPS_CONFIG_PATH, environmentPaths } from '../repo/layout.js'
import { demoIdentityOf } from '../repo/demo.js'
import { renderSopsConfig } from '../repo/sops-config.js'
import { formatPrivateKey, formatPublicKey, generateSigningKey } from '../sign/index.js'
import { runSops, type SopsOptions } from '../sops/index.js'
import { readEnvironmentRule, type RuleRecipient } from './sops-rules.js'

const TO_STRING = { lineWidth: 0, flowCollectionPadding: false } as const

const parse = (text: string, file: string): Document => {
    const doc = parseDocument(text)
    const first = doc.errors[0]
    if (first) throw new KeyfleetError(file === CATALOG_PATH ? 'CATALOG_INVALID' : 'SOPS_CONFIG_INVALID', `${file} is not valid YAML (${first.code}); fix it first`, { file })
    return doc
}

/** The rule of `env`, or undefined when no rule matches its files. @throws KeyfleetError as {@link readEnvironmentRule} except `SOPS_NO_CREATION_RULE`. */
export const ruleOf = (configText: string | undefined, env: string): readonly RuleRecipient[] | undefined => {
    if (configText === undefined) return undefined
    try {
        return readEnvironmentRule(configText, env).recipients
    } catch (error) {
        if (error instanceof KeyfleetError && error.code === 'SOPS_NO_CREATION_RULE') return undefined
        throw error
    }
}

/** Recipients commented `# admin…` in any rule of the environments, first seen first. */
export const existingAdmins = (configText: string | undefined, envs: readonly string[]): string[] => {
    const out: string[] = []
    for (const env of envs) {
        for (const r of ruleOf(configText, env) ?? []) if (r.comment.startsWith('admin') && !out.includes(r.recipient)) out.push(r.recipient)
    }
    return out
}

/**
 * `.sops.yaml` text with a rule for `env` appended (`^environments/<env>/[^/]+$`: CI first, then admins).
 * @param configText - the current text, or undefined to start a new file.
 * @throws KeyfleetError `AGE_BAD_RECIPIENT`; `SOPS_RULE_SHADOWED` when an earlier rule would still win (sops takes the first match).
 */
export const addEnvironmentRule = (configText: string | undefined, env: string, ci: string, admins: readonly string[]): string => {
    assertRecipient(ci, `CI recipient of ${env}`)
    admins.forEach((a) => assertRecipient(a, 'admin recipient'))
    if (configText === undefined || configText.trim() === '') return renderSopsConfig([{ env, ci, admins }])
    const doc = parse(configText, SOPS_CONFIG_PATH)
    let rules = doc.get('creation_rules', true)
    if (!isSeq(rules)) {
        rules = new YAMLSeq(doc.schema)
        doc.set('creation_rules', rules)
    }
    const age = new YAMLSeq<Scalar<string>>(doc.schema)
    const item = (recipient: string, comment: string): Scalar<string> => Object.assign(new Scalar(recipient), { comment: ` ${comment}` })
    age.items.push(item(ci, `ci:${env}`), ...admins.map((a) => item(a, 'admin')))
    const rule = new YAMLMap(doc.schema)
    rule.set('path_regex', `^environments/${env}/[^/]+$`)
    rule.set('age', age)
    ;(rules as YAMLSeq).items.push(rule)
    const text = doc.toString(TO_STRING)
    if (readEnvironmentRule(text, env).index !== (rules as YAMLSeq).items.length - 1) {
        throw new KeyfleetError('SOPS_RULE_SHADOWED', `an earlier rule of ${SOPS_CONFIG_PATH} already matches ${environmentPaths(env).secrets}, so a new rule for ${env} would never apply; narrow that rule's path_regex first`, { file: SOPS_CONFIG_PATH })
    }
    return text
}

/**
 * `.sops.yaml` text without `env`'s own rule (the one whose path_regex is exactly
 * `^environments/<env>/[^/]+$`); unchanged when it has none. A shared rule is left alone.
 */
export const removeEnvironmentRule = (configText: string, env: string): string => {
    const doc = parse(configText, SOPS_CONFIG_PATH)
    const rules = doc.get('creation_rules', true)
    if (!isSeq(rules)) return configText
    const own = `^environments/${env}/[^/]+$`
    const kept = rules.items.filter((r) => !(isMap(r) && r.get('path_regex') === own))
    if (kept.length === rules.items.length) return configText
    rules.items = kept
    return doc.toString(TO_STRING)
}

/** A starter catalog: the environments in promotion order and the built-in providers, nothing required. */
export const starterCatalog = (envs: readonly string[]): string => {
    const q = (s: string): string => `'${s.replace(/'/g, "''")}'`
    const lines = [
        '# keyfleet catalog: every secret the fleet may hold, its provider, its format',
        '# rule and the environments that must have it. Schema: docs/catalog.md.',
        'version: 1',
        `environments: [${envs.join(', ')}] # promotion order`,
        '',
        'providers:',
    ]
    for (const s of builtinSecrets) {
        lines.push(`  ${s.service}:`, `    title: ${s.title}`, `    env: ${s.name}`)
        if (s.aliases.length > 0) lines.push(`    aliases: [${s.aliases.join(', ')}]`)
        if (s.format) lines.push(`    format: ${q(s.format.source)}`)
        if (s.probe) {
            const headers = Object.entries(s.probe.headers)
            lines.push(`    probe: { base_url: ${s.probe.baseUrl}, path: ${s.probe.path}, auth: ${s.probe.auth}${headers.length > 0 ? `, headers: { ${headers.map(([k, v]) => `${k}: ${q(v)}`).join(', ')} }` : ''} }`)
        }
    }
    return `${lines.join('\n')}\n`
}

/** The catalog's `environments:` sequence. @throws KeyfleetError `CATALOG_INVALID`. */
const envSeq = (doc: Document): YAMLSeq => {
    const node = doc.get('environments', true)
    if (!isSeq(node)) throw new KeyfleetError('CATALOG_INVALID', `${CATALOG_PATH} has no \`environments:\` list; fix it first (docs/catalog.md)`, { file: CATALOG_PATH })
    return node
}

/**
 * Catalog text with `env` in `environments:`, just before the last one: the last is the
 * production environment (KF143 guards it), and a new environment must not take its place.
 * Unchanged when listed.
 */
export const addCatalogEnvironment = (catalogText: string, env: string): string => {
    const doc = parse(catalogText, CATALOG_PATH)
    const seq = envSeq(doc)
    if (seq.items.some((i) => isScalar(i) && i.value === env)) return catalogText
    seq.items.splice(Math.max(0, seq.items.length - 1), 0, new Scalar(env))
    return doc.toString(TO_STRING)
}

/**
 * Catalog text without `env` in `environments:` and in every `required_in` list.
 * @returns the text and the secrets whose `required_in` named it.
 */
export const removeCatalogEnvironment = (catalogText: string, env: string): { text: string; requiredBy: string[] } => {
    const doc = parse(catalogText, CATALOG_PATH)
    const seq = envSeq(doc)
    const drop = (s: YAMLSeq): boolean => {
        const before = s.items.length
        s.items = s.items.filter((i) => !(isScalar(i) && i.value === env))
        return s.items.length !== before
    }
    drop(seq)
    const requiredBy: string[] = []
    for (const section of ['providers', 'custom']) {
        const map = doc.get(section, true)
        if (!isMap(map)) continue
        for (const pair of map.items) {
            const spec = pair.value
            const required = isMap(spec) ? spec.get('required_in', true) : undefined
            if (isSeq(required) && drop(required)) requiredBy.push(String(isScalar(pair.key) ? pair.key.value : pair.key))
        }
    }
    return { text: doc.toString(TO_STRING), requiredBy }
}

/** A deployment.yaml with no agents yet. */
export const emptyDeployment = (env: string): string =>
    `# Where the ${env} environment deploys: its agents and the keys each may read.\n# Schema: docs/deployment.md. Add agents with \`keyfleet agent\` or by hand.\nenvironment: ${env}\nagents: []\n`

/**
 * An env.secrets with no keys, encrypted by sops to the rule that matches it
 * (`.sops.yaml` must already hold it). Needs no identity. Returns the text; the caller writes it.
 * @throws KeyfleetError sops errors (`SOPS_NO_CREATION_RULE` …).
 */
export const encryptEmptySecrets = (env: string, options: SopsOptions): Promise<string> => {
    const file = environmentPaths(env).secrets
    return runSops({ operation: 'encrypt', file, args: ['encrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', '--filename-override', file], input: '' }, options)
}

/**
 * deployment.yaml text without the agents whose `recipient` is a published demo
 * identity (src/repo/demo.ts); every other line as it was.
 * @returns the text (unchanged when none) and the removed agents' names.
 */
export const removeDemoAgents = (deploymentText: string, file: string): { text: string; removed: string[] } => {
    const doc = parse(deploymentText, file)
    const agents = doc.get('agents', true)
    if (!isSeq(agents)) return { text: deploymentText, removed: [] }
    const removed: string[] = []
    agents.items = agents.items.filter((agent) => {
        const recipient = isMap(agent) ? agent.get('recipient') : undefined
        if (typeof recipient !== 'string' || demoIdentityOf(recipient) === undefined) return true
        removed.push(String(isMap(agent) ? agent.get('name') : '?'))
        return false
    })
    return removed.length === 0 ? { text: deploymentText, removed } : { text: doc.toString(TO_STRING), removed }
}

/** Repository path of an environment's public bundle-signing key (committed; hosts pin it). */
export const signingKeyPath = (env: string): string => `${environmentPaths(env).dir}/signing.pub`

/**
 * A new CI bundle-signing key of `env` (Ed25519, OpenSSH formats): the public
 * key line for {@link signingKeyPath} and the private key file, a CI secret
 * (`KEYFLEET_SIGNING_KEY` of that GitHub environment) like its age identity.
 */
export const newSigningKey = (env: string): { publicKey: string; privateKey: string } => {
    const key = generateSigningKey(`keyfleet-signing:${env}`)
    return { publicKey: formatPublicKey(key.publicKey), privateKey: formatPrivateKey(key) }
}
