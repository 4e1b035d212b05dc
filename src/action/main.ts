/**
 * Entry point of the keyfleet GitHub Action (bundled to
 * .github/actions/keyfleet/dist/index.js by scripts/build-action.mjs).
 *
 * Order is the security contract:
 *   1. read inputs; `age-key` is masked as it is read;
 *   2. the command decrypts and masks every value before any other work;
 *   3. findings become annotations, sections become the step summary,
 *      results become outputs: all built from names, never values;
 *   4. the plaintext workspace under RUNNER_TEMP is removed in `finally`,
 *      and by an exit/signal hook if `finally` never runs.
 */
import * as core from '@actions/core'
import { isAbsolute, relative } from 'node:path'
import { KeyfleetError, isKeyfleetError } from '../errors.js'
import { annotateFailure, annotateFindings } from './annotations.js'
import { runApply } from './commands/apply.js'
import { runCatchUp } from './commands/catch-up.js'
import { runCheck } from './commands/check.js'
import { runDiff } from './commands/diff.js'
import { runFold } from './commands/fold.js'
import { runGuard } from './commands/guard.js'
import { runPublish } from './commands/publish.js'
import { runPushFold } from './commands/push-fold.js'
import { runRender } from './commands/render.js'
import { runRollout } from './commands/rollout.js'
import type { CommandContext, CommandResult } from './commands/types.js'
import { runValidate } from './commands/validate.js'
import { readInputs, type ActionCommand, type ActionInputs } from './inputs.js'
import { onceEach } from './mask.js'
import { Workspace } from './workspace.js'

const commands: Record<ActionCommand, (ctx: CommandContext) => Promise<CommandResult>> = {
    validate: runValidate,
    diff: runDiff,
    render: runRender,
    check: runCheck,
    fold: runFold,
    guard: runGuard,
    'catch-up': runCatchUp,
    apply: runApply,
    rollout: runRollout,
    'push-fold': runPushFold,
    publish: runPublish,
}

/** Makes an error's file repository-relative, as annotations require. */
const relativeTo = (root: string | undefined, error: unknown): unknown => {
    if (!root || !isKeyfleetError(error) || error.file === undefined || !isAbsolute(error.file)) return error
    const file = relative(root, error.file).split('\\').join('/')
    if (file.startsWith('..')) return error
    return new KeyfleetError(error.code, error.message, { file, ...(error.line === undefined ? {} : { line: error.line }) })
}

/**
 * Runs the action once. Never throws: every failure becomes an error
 * annotation and exit code 1.
 *
 * @param env - The process environment (RUNNER_TEMP, GITHUB_WORKSPACE).
 */
export const run = async (env: NodeJS.ProcessEnv = process.env): Promise<void> => {
    let workspace: Workspace | undefined
    let inputs: ActionInputs | undefined
    try {
        const setSecret = onceEach(core.setSecret)
        inputs = readInputs(env, setSecret)
        const ctx: CommandContext = {
            inputs,
            setSecret,
            workspace: () => (workspace ??= Workspace.create(env.RUNNER_TEMP)),
            env,
        }
        const result = await commands[inputs.command](ctx)
        const errors = annotateFindings(result.findings)
        for (const w of result.warnings ?? []) core.warning(w.message, { title: w.title })
        core.setOutput('findings', String(result.findings.length))
        for (const [name, value] of Object.entries(result.outputs)) core.setOutput(name, value)
        if (result.summary.length > 0 && env.GITHUB_STEP_SUMMARY) {
            await core.summary.addHeading(`keyfleet ${inputs.command}`, 2).addRaw(result.summary.join('\n'), true).write()
        }
        if (result.failed) {
            core.setFailed(errors > 0 ? `${errors} error-level finding(s); see the annotations and the step summary.` : `keyfleet ${inputs.command} failed; see the step summary.`)
        }
    } catch (error) {
        annotateFailure(relativeTo(inputs?.root, error))
    } finally {
        workspace?.dispose()
    }
}
