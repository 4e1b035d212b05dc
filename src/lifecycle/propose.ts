/**
 * Making a proposal: seal a new value to the environment's CI recipient, read
 * from `.sops.yaml` (public keys only: the proposer needs no identity at all).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { seal } from '../age/index.js'
import { KeyfleetError } from '../errors.js'
import { writeFileAtomic } from '../repo/atomic.js'
import { SOPS_CONFIG_PATH } from '../repo/layout.js'
import { encodePayload, proposalPath } from './proposal-format.js'
import { proposalRecipients } from './sops-rules.js'

/** Input of {@link createProposal}. */
export interface ProposeInput {
    readonly root: string
    readonly env: string
    /** Canonical catalog name (the caller resolves aliases and checks the value). */
    readonly name: string
    readonly value: string
    /** Seal to every recipient of the rule, not just the CI one (lets an admin fold locally). */
    readonly allRecipients?: boolean
    /** Clock, for tests. */
    readonly now?: () => Date
}

/** What {@link createProposal} wrote. */
export interface ProposeResult {
    /** Repository-relative path of the proposal. */
    readonly file: string
    /** The recipients it is sealed to. */
    readonly recipients: readonly string[]
    /** True when sealed to the `# ci:<env>` recipient only. */
    readonly ciOnly: boolean
    /** True when an earlier proposal for the same name was replaced. */
    readonly replaced: boolean
}

/**
 * Seals `value` for `name` in `env` and writes `environments/<env>/proposals/<name>.age`
 * atomically (mode 0644: it is ciphertext meant for git).
 * @throws KeyfleetError `SOPS_CONFIG_NOT_FOUND`, `SOPS_NO_CREATION_RULE`, `SOPS_NO_RECIPIENTS`, `AGE_BAD_RECIPIENT`, `ENV_INVALID_NAME`.
 */
export const createProposal = async (input: ProposeInput): Promise<ProposeResult> => {
    const configPath = join(input.root, SOPS_CONFIG_PATH)
    if (!existsSync(configPath)) throw new KeyfleetError('SOPS_CONFIG_NOT_FOUND', `${SOPS_CONFIG_PATH} is missing; a proposal is sealed to the CI recipient it lists`)
    const { recipients, ciOnly } = proposalRecipients(readFileSync(configPath, 'utf8'), input.env, input.allRecipients === true)
    const created = (input.now ?? (() => new Date()))().toISOString()
    const armored = await seal(encodePayload({ env: input.env, name: input.name, value: input.value, created }), recipients)
    const file = proposalPath(input.env, input.name)
    const target = join(input.root, file)
    const replaced = existsSync(target)
    mkdirSync(dirname(target), { recursive: true })
    writeFileAtomic(target, armored, 0o644)
    return { file, recipients, ciOnly, replaced }
}

