/**
 * Findings and failures as GitHub annotations (`::error file=…,line=…::`),
 * so a reviewer sees each problem on the line of the pull request that
 * caused it. Messages come from findings and KeyfleetErrors, which never
 * carry values; anything else is reduced to its class name.
 */
import * as core from '@actions/core'
import { isKeyfleetError } from '../errors.js'
import { sortFindings, type Finding } from '../findings.js'

const REPO_PATH = /^(?!\.\.?\/)[\w.-]+(\/[\w.-]+)*$/

const emit = { error: core.error, warning: core.warning, notice: core.notice } as const

/**
 * Emits one annotation per finding, sorted by file and line.
 *
 * @returns The number of error-level findings.
 */
export const annotateFindings = (findings: readonly Finding[]): number => {
    let errors = 0
    for (const f of sortFindings(findings)) {
        if (f.severity === 'error') errors++
        const props: core.AnnotationProperties = { title: f.code, file: f.file }
        if (f.line !== undefined) props.startLine = f.line
        emit[f.severity](f.message, props)
    }
    return errors
}

/**
 * The message of a failure that is safe to print. A KeyfleetError's message
 * is written to be safe; any other error (a bug, a third-party exception)
 * may embed input, so only its class name is shown.
 */
export const safeMessage = (error: unknown): string => {
    if (isKeyfleetError(error)) return `${error.code}: ${error.message}`
    const name = error instanceof Error ? error.constructor.name : typeof error
    return `unexpected ${name} (details withheld because they may contain secret material; re-run with debug logging to see the stack trace)`
}

/**
 * Reports a failure: an error annotation at the failing file and line when
 * the error names one, and a failed step (exit code 1).
 */
export const annotateFailure = (error: unknown): void => {
    const props: core.AnnotationProperties = { title: isKeyfleetError(error) ? error.code : 'keyfleet' }
    // Only a repository path can carry an annotation ("the age-key input" cannot).
    if (isKeyfleetError(error) && error.file !== undefined && REPO_PATH.test(error.file)) {
        props.file = error.file
        if (error.line !== undefined) props.startLine = error.line
    }
    core.error(safeMessage(error), props)
    // Stack frames only: the first line of `stack` repeats the message.
    if (core.isDebug() && error instanceof Error && error.stack) {
        core.debug(error.stack.split('\n').slice(1).join('\n'))
    }
    process.exitCode = 1
}
