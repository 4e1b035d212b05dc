/**
 * The creation rule of one environment in `.sops.yaml`, read and edited with
 * the yaml Document API so that comments (`# ci:<env>`, `# admin`) and the
 * order of rules and recipients survive every edit.
 */
import { isMap, isScalar, isSeq, parseDocument, Scalar, YAMLSeq, type Document, type YAMLMap } from 'yaml'
import { assertRecipient } from '../age/index.js'
import { KeyfleetError } from '../errors.js'
import { SOPS_CONFIG_PATH, environmentPaths } from '../repo/layout.js'
import { matchRule, parseSopsConfig } from '../validate/sops-config.js'

/** One recipient of a rule with the role its comment gives it. */
export interface RuleRecipient {
    readonly recipient: string
    /** The comment after it, trimmed (e.g. `ci:prod`, `admin`); empty when none. */
    readonly comment: string
    /** True when the comment marks it as the environment's CI recipient (`# ci:<env>`). */
    readonly ci: boolean
}

/** The rule of one environment. */
export interface EnvironmentRule {
    readonly env: string
    /** 0-based index of the rule in `creation_rules`. */
    readonly index: number
    readonly recipients: readonly RuleRecipient[]
}

const ciMarker = (comment: string, env: string): boolean => new RegExp(`^ci:${env}(\\s|$)`).test(comment)

/** Parses `.sops.yaml` text into a Document. @throws KeyfleetError `SOPS_CONFIG_INVALID`. */
const parseConfig = (text: string): Document => {
    const doc = parseDocument(text, { keepSourceTokens: false })
    const first = doc.errors[0]
    if (first) throw new KeyfleetError('SOPS_CONFIG_INVALID', `${SOPS_CONFIG_PATH} is not valid YAML (${first.code}); fix it before changing recipients`, { file: SOPS_CONFIG_PATH })
    return doc
}

/**
 * The first rule whose `path_regex` matches the environment's env.secrets, as sops picks it.
 * @throws KeyfleetError `SOPS_CONFIG_INVALID`, `SOPS_NO_CREATION_RULE`, `SOPS_KEY_GROUPS_UNSUPPORTED`.
 */
const findRule = (doc: Document, env: string): { index: number; rule: YAMLMap } => {
    const secrets = environmentPaths(env).secrets
    // Rule matching is validation's (the PR check and this edit must pick the same rule); the Document is for editing.
    const { config, findings } = parseSopsConfig(doc.toString(), SOPS_CONFIG_PATH)
    const problem = findings[0]
    if (problem) throw new KeyfleetError('SOPS_CONFIG_INVALID', `${SOPS_CONFIG_PATH}:${problem.line ?? 1}: ${problem.message}; fix it first`, { file: SOPS_CONFIG_PATH, line: problem.line })
    const match = matchRule(config, secrets)
    const rules = doc.get('creation_rules', true)
    const rule = match && isSeq(rules) ? rules.items[match.index] : undefined
    if (!match || !isMap(rule)) {
        throw new KeyfleetError('SOPS_NO_CREATION_RULE', `no creation rule in ${SOPS_CONFIG_PATH} matches ${secrets}; create the environment with \`keyfleet env add ${env}\` (it writes the rule)`, { file: SOPS_CONFIG_PATH })
    }
    if (rule.has('key_groups')) {
        throw new KeyfleetError('SOPS_KEY_GROUPS_UNSUPPORTED', `the ${SOPS_CONFIG_PATH} rule for ${secrets} uses key_groups; keyfleet edits flat \`age:\` lists only — edit this rule by hand, then run \`sops updatekeys -y --input-type dotenv ${secrets}\``, { file: SOPS_CONFIG_PATH })
    }
    return { index: match.index, rule }
}

/** The rule's `age` as a sequence node, converting a comma-separated string into a list. */
const ageSeq = (doc: Document, rule: YAMLMap): YAMLSeq<Scalar<string>> => {
    const node = rule.get('age', true)
    if (isSeq(node)) return node as YAMLSeq<Scalar<string>>
    const seq = new YAMLSeq<Scalar<string>>(doc.schema)
    if (isScalar(node) && typeof node.value === 'string') {
        for (const part of node.value.split(',').map((s) => s.trim()).filter(Boolean)) seq.items.push(new Scalar(part))
    }
    rule.set('age', seq)
    return seq
}

const recipientsOf = (rule: YAMLMap, env: string): RuleRecipient[] => {
    const node = rule.get('age', true)
    const items: { value: string; comment: string }[] = []
    if (isSeq(node)) {
        for (const item of node.items) {
            if (isScalar(item) && typeof item.value === 'string') items.push({ value: item.value.trim(), comment: (item.comment ?? '').trim() })
        }
    } else if (isScalar(node) && typeof node.value === 'string') {
        for (const part of node.value.split(',')) if (part.trim() !== '') items.push({ value: part.trim(), comment: '' })
    }
    return items.map(({ value, comment }) => ({ recipient: value, comment, ci: ciMarker(comment, env) }))
}

/**
 * The recipients of `env`'s creation rule, with their comments.
 * @throws KeyfleetError `SOPS_CONFIG_INVALID`, `SOPS_NO_CREATION_RULE`, `SOPS_KEY_GROUPS_UNSUPPORTED`, `ENV_INVALID_NAME`.
 */
export const readEnvironmentRule = (configText: string, env: string): EnvironmentRule => {
    const doc = parseConfig(configText)
    const { index, rule } = findRule(doc, env)
    return { env, index, recipients: recipientsOf(rule, env) }
}

/**
 * Whom a proposal for `env` is sealed to: the recipient commented `# ci:<env>`,
 * or every recipient of the rule when none is marked (or when `all` is set).
 * @throws KeyfleetError as {@link readEnvironmentRule}, and `SOPS_NO_RECIPIENTS` when the rule has none.
 */
export const proposalRecipients = (configText: string, env: string, all = false): { recipients: string[]; ciOnly: boolean } => {
    const { recipients } = readEnvironmentRule(configText, env)
    if (recipients.length === 0) throw new KeyfleetError('SOPS_NO_RECIPIENTS', `the ${SOPS_CONFIG_PATH} rule for ${env} lists no age recipients; add the environment's CI recipient (\`# ci:${env}\`)`)
    for (const r of recipients) assertRecipient(r.recipient, `${SOPS_CONFIG_PATH} (${env})`)
    const ci = recipients.filter((r) => r.ci).map((r) => r.recipient)
    return ci.length > 0 && !all ? { recipients: ci, ciOnly: true } : { recipients: recipients.map((r) => r.recipient), ciOnly: false }
}

/**
 * Returns `.sops.yaml` text with `recipient` appended to `env`'s rule, every other line as it was.
 * @param comment - written after it (`# comment`), e.g. `admin` or `host:alice-laptop`.
 * @throws KeyfleetError `AGE_BAD_RECIPIENT`, `RECIPIENT_EXISTS`, and as {@link readEnvironmentRule}.
 */
export const addRuleRecipient = (configText: string, env: string, recipient: string, comment?: string): string => {
    assertRecipient(recipient, 'recipient')
    const doc = parseConfig(configText)
    const { rule } = findRule(doc, env)
    if (recipientsOf(rule, env).some((r) => r.recipient === recipient)) {
        throw new KeyfleetError('RECIPIENT_EXISTS', `${recipient} is already a recipient of ${env}; nothing was changed`)
    }
    const item = new Scalar(recipient)
    if (comment !== undefined && comment.trim() !== '') item.comment = ` ${comment.trim().replace(/[\r\n]+/g, ' ')}`
    ageSeq(doc, rule).items.push(item)
    return doc.toString({ lineWidth: 0, flowCollectionPadding: false })
}

/**
 * Returns `.sops.yaml` text without `recipient` in `env`'s rule.
 * @returns the new text and the removed entry (with its comment).
 * @throws KeyfleetError `AGE_BAD_RECIPIENT`, `RECIPIENT_NOT_FOUND`, `RECIPIENT_LAST` (a rule must keep one), and as {@link readEnvironmentRule}.
 */
export const removeRuleRecipient = (configText: string, env: string, recipient: string): { text: string; removed: RuleRecipient } => {
    assertRecipient(recipient, 'recipient')
    const doc = parseConfig(configText)
    const { rule } = findRule(doc, env)
    const before = recipientsOf(rule, env)
    const removed = before.find((r) => r.recipient === recipient)
    if (!removed) throw new KeyfleetError('RECIPIENT_NOT_FOUND', `${recipient} is not a recipient of ${env}; see \`keyfleet recipients ls ${env}\``)
    if (before.length === 1) throw new KeyfleetError('RECIPIENT_LAST', `${recipient} is the only recipient of ${env}; add its replacement first (\`keyfleet recipients add ${env} age1…\`)`)
    const seq = ageSeq(doc, rule)
    seq.items = seq.items.filter((item) => !(isScalar(item) && typeof item.value === 'string' && item.value.trim() === recipient))
    return { text: doc.toString({ lineWidth: 0, flowCollectionPadding: false }), removed }
}
