import { describe, expect, it } from 'vitest'
import { addRuleRecipient, proposalRecipients, readEnvironmentRule, removeRuleRecipient } from '../../src/lifecycle/index.js'

const CI = 'age10czy7qhjq4g9ljnjh2cp65cva4v84909td9k2xymjtl4wxj58s9sg28plp'
const ADMIN = 'age1kjtzx7zxsjl0nm50nvwmch68tc8r7kwn80gawllcf24lcz87f4hsc0w2ks'
const NEW = 'age1hmkkhc2n3ykdxtgxun39uncjhayfd0kucnc7v9pals86q4xanflsyrguyu'
const PROD_CI = 'age1y2s7ervnlk7k0k6v7u4glatmrsggr8q2muefjytdwr449asdqe2s5n9gt3'

const CONFIG = `# top comment
creation_rules:
  # dev first
  - path_regex: ^environments/dev/[^/]+$
    age:
      - ${CI} # ci:dev
      - ${ADMIN} # admin
  - path_regex: ^environments/prod/[^/]+$
    age: ${PROD_CI}, ${ADMIN}
`

describe('.sops.yaml rule editing', () => {
    it('reads recipients with their role comments and finds the CI one', () => {
        const rule = readEnvironmentRule(CONFIG, 'dev')
        expect(rule.recipients).toEqual([
            { recipient: CI, comment: 'ci:dev', ci: true },
            { recipient: ADMIN, comment: 'admin', ci: false },
        ])
        expect(proposalRecipients(CONFIG, 'dev')).toEqual({ recipients: [CI], ciOnly: true })
        // No marker (a comma-separated string): seal to every recipient.
        expect(proposalRecipients(CONFIG, 'prod')).toEqual({ recipients: [PROD_CI, ADMIN], ciOnly: false })
    })

    it('adds and removes keeping every comment and the order of the rest', () => {
        const added = addRuleRecipient(CONFIG, 'dev', NEW, 'host:alice')
        expect(added).toBe(CONFIG.replace(`${ADMIN} # admin\n`, `${ADMIN} # admin\n      - ${NEW} # host:alice\n`))
        const { text, removed } = removeRuleRecipient(added, 'dev', ADMIN)
        expect(removed).toEqual({ recipient: ADMIN, comment: 'admin', ci: false })
        expect(text).toBe(CONFIG.replace(`      - ${ADMIN} # admin\n`, `      - ${NEW} # host:alice\n`))
    })

    it('turns a comma-separated age string into a list when editing it', () => {
        const { text } = removeRuleRecipient(CONFIG, 'prod', ADMIN)
        expect(readEnvironmentRule(text, 'prod').recipients.map((r) => r.recipient)).toEqual([PROD_CI])
        expect(text.startsWith('# top comment\ncreation_rules:\n  # dev first\n')).toBe(true)
    })

    it('refuses duplicates, unknown and last recipients, bad recipients and key_groups', () => {
        expect(() => addRuleRecipient(CONFIG, 'dev', ADMIN)).toThrow(expect.objectContaining({ code: 'RECIPIENT_EXISTS' }))
        expect(() => removeRuleRecipient(CONFIG, 'dev', NEW)).toThrow(expect.objectContaining({ code: 'RECIPIENT_NOT_FOUND' }))
        const single = removeRuleRecipient(CONFIG, 'dev', ADMIN).text
        expect(() => removeRuleRecipient(single, 'dev', CI)).toThrow(expect.objectContaining({ code: 'RECIPIENT_LAST' }))
        expect(() => addRuleRecipient(CONFIG, 'dev', 'AGE-SECRET-KEY-1QQQ')).toThrow(expect.objectContaining({ code: 'AGE_BAD_RECIPIENT' }))
        expect(() => addRuleRecipient(CONFIG, 'stage', NEW)).toThrow(expect.objectContaining({ code: 'SOPS_NO_CREATION_RULE' }))
        const groups = `creation_rules:\n  - path_regex: ^environments/dev/\n    key_groups:\n      - age: [${CI}]\n`
        expect(() => addRuleRecipient(groups, 'dev', NEW)).toThrow(expect.objectContaining({ code: 'SOPS_KEY_GROUPS_UNSUPPORTED' }))
    })
})

describe('.sops.yaml flow lists', () => {
    it('keeps the [a, b] style of a flow age list', () => {
        const flow = `creation_rules:\n  - path_regex: ^environments/dev/\n    age: [${CI}, ${ADMIN}] # ci first\n`
        expect(addRuleRecipient(flow, 'dev', NEW)).toBe(`creation_rules:\n  - path_regex: ^environments/dev/\n    age: [${CI}, ${ADMIN}, ${NEW}] # ci first\n`)
    })
})
