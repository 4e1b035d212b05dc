/**
 * Finding codes of the key lifecycle (write-only proposals). They sit next to
 * validation's KF1xx codes and are documented in docs/lifecycle.md.
 */
import type { Finding, Severity } from '../findings.js'

/** Every lifecycle finding code with its default severity and a title. */
export const LIFECYCLE_CODES = {
    KF150: { severity: 'error', title: 'proposal is not a well-formed age file' },
    KF151: { severity: 'error', title: 'proposal file name is not a canonical catalog name' },
    KF152: { severity: 'error', title: 'plaintext provider key in a proposal' },
    KF153: { severity: 'error', title: 'unexpected file in proposals/' },
} as const satisfies Record<string, { severity: Severity; title: string }>

/** A lifecycle finding code. */
export type LifecycleCode = keyof typeof LIFECYCLE_CODES

/** Builds a finding with the code's default severity. */
export const lifecycleFinding = (code: LifecycleCode, file: string, line: number | undefined, message: string): Finding =>
    line === undefined
        ? { code, severity: LIFECYCLE_CODES[code].severity, file, message }
        : { code, severity: LIFECYCLE_CODES[code].severity, file, line, message }
