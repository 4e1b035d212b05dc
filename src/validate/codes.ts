/**
 * The stable finding codes of `keyfleet validate` / `keyfleet scan`. A code
 * is never renamed or reused once released; docs/validation.md documents
 * each one. Keeping them in one table lets tests and docs check coverage.
 */
import { findingBuilder, type Finding, type Severity } from '../findings.js'

/** Every code, its default severity and whether it needs the environment's identity. */
export const CODES = {
    KF100: { severity: 'error', keyed: false, title: 'env.secrets is not a complete SOPS dotenv file' },
    KF101: { severity: 'error', keyed: false, title: 'plaintext value in env.secrets' },
    KF102: { severity: 'error', keyed: false, title: 'SOPS metadata incomplete' },
    KF103: { severity: 'error', keyed: false, title: 'recipient missing from the file (run updatekeys)' },
    KF104: { severity: 'error', keyed: false, title: 'extra recipient in the file (run updatekeys)' },
    KF105: { severity: 'error', keyed: false, title: 'no .sops.yaml creation rule matches the file' },
    KF106: { severity: 'error', keyed: false, title: 'environment has no env.secrets' },
    KF107: { severity: 'error', keyed: false, title: 'recipient is a published demo identity' },
    KF110: { severity: 'error', keyed: false, title: 'name is not UPPER_SNAKE' },
    KF111: { severity: 'error', keyed: false, title: 'name defined twice' },
    KF112: { severity: 'error', keyed: false, title: 'name unknown to the catalog' },
    KF113: { severity: 'error', keyed: false, title: 'required name missing' },
    KF114: { severity: 'error', keyed: false, title: 'deployment names a key the environment lacks' },
    KF115: { severity: 'error', keyed: false, title: 'regional agent reads a key its region has no variant of' },
    KF120: { severity: 'error', keyed: false, title: 'keyfleet.yaml breaks its schema' },
    KF121: { severity: 'error', keyed: false, title: 'deployment.yaml breaks its schema' },
    KF122: { severity: 'error', keyed: false, title: '.sops.yaml is missing or invalid' },
    KF123: { severity: 'error', keyed: false, title: 'keyfleet.yaml (the catalog) is missing' },
    KF124: { severity: 'error', keyed: false, title: 'catalog probe sends keys to an origin that is not allowed' },
    KF130: { severity: 'error', keyed: false, title: 'plaintext provider key in a file' },
    KF140: { severity: 'error', keyed: true, title: 'cannot decrypt, or the MAC does not verify' },
    KF141: { severity: 'error', keyed: true, title: 'value fails its provider format rule' },
    KF142: { severity: 'error', keyed: true, title: 'placeholder value' },
    KF143: { severity: 'error', keyed: true, title: 'production key shared with a lower environment' },
    KF144: { severity: 'error', keyed: true, title: 'one value under two names' },
} as const satisfies Record<string, { severity: Severity; keyed: boolean; title: string }>

/** A finding code. */
export type FindingCode = keyof typeof CODES

/** Builds a finding with the code's default severity unless `severity` overrides it. */
export const finding: (code: FindingCode, file: string, line: number | undefined, message: string, severity?: Severity) => Finding = findingBuilder(CODES)

/**
 * The key-less proposal codes (KF150-KF155; KF154 and KF155 need git history, KF155 also the CI identity). They are validation findings of
 * the PR check but documented with the lifecycle in docs/lifecycle.md;
 * src/lifecycle re-exports them under the same names.
 */
export const LIFECYCLE_CODES = {
    KF150: { severity: 'error', title: 'proposal is not a well-formed age file' },
    KF151: { severity: 'error', title: 'proposal file name is not a canonical catalog name' },
    KF152: { severity: 'error', title: 'plaintext provider key in a proposal' },
    KF153: { severity: 'error', title: 'unexpected file in proposals/' },
    KF154: { severity: 'error', title: 'proposal replays one that was applied and removed before' },
    KF155: { severity: 'error', title: 'proposal was made before the key last changed' },
} as const satisfies Record<string, { severity: Severity; title: string }>

/** A proposal (lifecycle) finding code. */
export type LifecycleCode = keyof typeof LIFECYCLE_CODES

/** Builds a proposal finding with the code's default severity. */
export const lifecycleFinding: (code: LifecycleCode, file: string, line: number | undefined, message: string) => Finding = findingBuilder(LIFECYCLE_CODES)
