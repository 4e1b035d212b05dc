/**
 * The key lifecycle: write-only proposals (change a key without reading the
 * environment), recipients joining and leaving, data-key rotation and agent
 * registration. See docs/lifecycle.md.
 *
 * The key-less proposal check, the age header inspection and the KF150-KF154
 * codes live in src/validate (the PR check runs them); they are re-exported here.
 */
export { LIFECYCLE_CODES, lifecycleFinding, type LifecycleCode } from '../validate/codes.js'
export { inspectAgeFile, type AgeInspection, type AgeStanzaHeader } from '../validate/age-header.js'
export { PROPOSAL_FORMAT, PROPOSAL_FILE, proposalPath, encodePayload, decodePayload, type ProposalPayload } from './proposal-format.js'
export { checkProposalsKeyless, listProposalDir } from '../validate/proposals.js'
export { checkProposalReplays } from '../validate/proposal-replays.js'
export { createProposal, type ProposeInput, type ProposeResult } from './propose.js'
export { openProposals, foldProposals, proposedValueProblem, type OpenedProposal, type FoldOptions, type FoldResult } from './fold.js'
export {
    readEnvironmentRule, proposalRecipients, addRuleRecipient, removeRuleRecipient,
    type EnvironmentRule, type RuleRecipient,
} from './sops-rules.js'
export {
    addRecipient, removeRecipient, syncRecipients, listRecipients, environmentsWithRecipient, namesIn,
    type RecipientChangeInput, type RecipientChangeResult, type RecipientRemoval, type RecipientRow, type RecipientSync,
} from './recipients.js'
export { rotateDataKey } from './rotate.js'
export { registerAgent, type AgentRegistration } from './agent.js'
