/**
 * What every action command receives and returns. Commands compute; main
 * does the runner I/O (outputs, summary, annotations) once, at the end.
 */
import type { Finding } from '../../findings.js'
import type { ActionInputs } from '../inputs.js'
import type { SetSecret } from '../mask.js'
import type { Workspace } from '../workspace.js'

/** Passed to a command. */
export interface CommandContext {
    readonly inputs: ActionInputs
    /** Registers one mask with the runner (`core.setSecret`). */
    readonly setSecret: SetSecret
    /** The private plaintext scratch directory, created on first use. */
    readonly workspace: () => Workspace
    /** The step's process environment (PATH, HOME, KEYFLEET_SOPS), for locating tools. */
    readonly env: NodeJS.ProcessEnv
}

/** Returned by a command. Nothing here may hold a secret value. */
export interface CommandResult {
    readonly findings: readonly Finding[]
    /** Markdown sections for the step summary, in order. */
    readonly summary: readonly string[]
    /** Step outputs beyond `findings`, which main always sets. */
    readonly outputs: Readonly<Record<string, string>>
    /** True when the step must fail (error findings, or a refused render). */
    readonly failed: boolean
    /**
     * Warnings that belong to no file (e.g. a skipped change table); main
     * emits each as a `::warning` annotation. Names only, never values.
     */
    readonly warnings?: readonly ActionWarning[]
}

/** A warning annotation without a file. */
export interface ActionWarning {
    readonly title: string
    readonly message: string
}
