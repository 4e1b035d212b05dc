/**
 * Validation: rules that turn repository state into findings, key-less (for
 * pull requests, which must hold no private key) and keyed (for the deploy
 * job); the plaintext-key scan; and the change report between two revisions.
 * Codes are documented in docs/validation.md, the report in docs/change-report.md.
 */
export { CODES, finding, LIFECYCLE_CODES, lifecycleFinding, type FindingCode, type LifecycleCode } from './codes.js'
export {
    validateRepository, readRepoCatalog, readRepoSopsConfig, discoverEnvironments,
    secretsPath, deploymentPath, CATALOG_PATH, SOPS_CONFIG_PATH, type ValidateOptions,
} from './repository.js'
export { checkSecretsFile, type SecretsFileCheck } from './secrets-file.js'
export { checkNames, type NameCheckInput, type NamedLine, type DeploymentKeyRef } from './names.js'
export { checkKeyed, decryptEnv, type KeyedEnvInput } from './keyed.js'
export { readDeployment, type DeploymentRead } from './deployment.js'
export { parseSopsConfig, matchRule, type SopsConfig, type CreationRule, type ParsedSopsConfig } from './sops-config.js'
export { scanForPlaintextKeys, createScanner, ALLOW_MARKER, type ScanOptions, type ScanScope, type Scanner } from './scan.js'
export { changeReport, compareEnv, type ChangeReport, type ChangeReportOptions, type EnvChange, type FileStatus, type NameStatus } from './change-report.js'
export { changeReportText, changeReportMarkdown, summarizeEnv, mdEscape, REENCRYPTED_NOTE, type MarkdownOptions } from './report-format.js'
export { installHook, hookScript, HOOK_MARKER, type HookCli, type HookInstall } from './hook.js'
export { EMPTY_TREE, headState, isGitRepo, resolveRef } from './git.js'
export { checkProposalsKeyless, listProposalDir, PROPOSAL_FILE_NAME } from './proposals.js'
export { checkProposalFreshness, checkProposalReplays, ciphertextDigest, type ProposalTimes } from './proposal-replays.js'
export { inspectAgeFile, type AgeInspection, type AgeStanzaHeader } from './age-header.js'
