/**
 * A finding: one thing a check has to say about the repository. Validation,
 * rendering and live checks all report findings; the CLI prints them, the
 * action turns them into annotations. A message never contains a secret value.
 */

/** How bad a finding is. Only `error` fails a check. */
export type Severity = 'error' | 'warning' | 'notice'

/** One finding, located at a file and (when known) a 1-based line. */
export interface Finding {
    /** Stable code, e.g. `KF101`, documented in docs/validation.md. */
    readonly code: string
    readonly severity: Severity
    /** Repository-relative path with forward slashes. */
    readonly file: string
    readonly line?: number
    /** What is wrong and what to do; names only, never values. */
    readonly message: string
}

/** One entry of a module's table of finding codes. */
export interface CodeSpec {
    readonly severity: Severity
    readonly title: string
}

/**
 * A finding builder for a table of codes (validation KF1xx, deployment KF3xx,
 * live checks KF5xx): each finding gets its code's default severity unless
 * `severity` overrides it, and `line` only when it is known.
 */
export const findingBuilder = <C extends string>(codes: Readonly<Record<C, CodeSpec>>) =>
    (code: C, file: string, line: number | undefined, message: string, severity?: Severity): Finding =>
        line === undefined
            ? { code, severity: severity ?? codes[code].severity, file, message }
            : { code, severity: severity ?? codes[code].severity, file, line, message }

/** True when any finding is error-level. */
export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.severity === 'error')

/** `file:line: severity code message`, the form editors and CI logs link. */
export const formatFinding = (f: Finding): string =>
    `${f.file}${f.line === undefined ? '' : `:${f.line}`}: ${f.severity} ${f.code} ${f.message}`

/** Orders findings by file, line, then code, so output is stable. */
export const sortFindings = (findings: readonly Finding[]): Finding[] =>
    [...findings].sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || a.code.localeCompare(b.code))
