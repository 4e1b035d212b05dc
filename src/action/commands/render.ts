/**
 * `command: render`: decrypt (masking every value first), keyed validation,
 * then the manifests, bundles and registry of one environment into out-dir.
 * Without out-dir it is a dry run: the render goes to the private workspace
 * under RUNNER_TEMP and is deleted when the step ends.
 */
import { isDemoRepository } from '../../repo/demo.js'
import { KeyfleetError, isKeyfleetError } from '../../errors.js'
import { hasErrors, type Finding } from '../../findings.js'
import { generationId, registryMarkdown, renderEnvironment, writeRenderOutput, type AgentSpec, type RenderOutput } from '../../render/index.js'
import { changeReportMarkdown, validateRepository, type ChangeReport } from '../../validate/index.js'
import { readRepoCatalog } from '../../validate/repository.js'
import { assertEnvironment, deploymentFile, readDeployment } from '../repo.js'
import { decryptAndMask } from '../secrets.js'
import { filesMarkdown, findingsMarkdown } from '../summary.js'
import { changedNames, reportChanges } from './diff.js'
import type { ActionWarning, CommandContext, CommandResult } from './types.js'
import { join } from 'node:path'

/** One entry of the `agents` output. */
export interface AgentOutput {
    readonly name: string
    readonly target: 'kubernetes' | 'bundle'
    /** Namespace of the agent's Deployment and Secret; null for a bundle agent. */
    readonly namespace: string | null
    /** The Deployment the render patches (`deployment`, default the agent name); null for a bundle agent. */
    readonly deployment: string | null
    readonly generation: string | null
}

/**
 * The `agents` output: what the deploy workflow needs to find each agent's
 * pods after the apply. It names the Deployment, not a label, because the
 * render puts no label on the pods (a pod-template change would restart
 * them); the workflow resolves the pods through the Deployment's own
 * selector. Sorted by agent name.
 */
export const agentsOutput = (out: RenderOutput, agents: readonly AgentSpec[]): string => {
    const byName = new Map(agents.map((a) => [a.name, a]))
    const entries: AgentOutput[] = out.registry.agents.map((a) => ({
        name: a.name,
        target: a.target,
        namespace: a.namespace ?? null,
        deployment: a.target === 'kubernetes' ? byName.get(a.name)?.deployment ?? a.name : null,
        generation: out.generation[a.name] ?? null,
    }))
    return JSON.stringify(entries)
}

/**
 * The change report against `baseRef`, or why it was skipped. In a render
 * the report is only a summary: a base revision that is not in the fetched
 * history (the all-zeros `before` of a branch's first push, a commit
 * dropped by a force-push) must not stop the deployment, so git's
 * `GIT_FAILED` becomes a reason to skip it. Decryption errors still throw.
 */
export const optionalChangeReport = async (ctx: CommandContext, baseRef: string): Promise<ChangeReport | { skipped: string }> => {
    try {
        return await reportChanges(ctx, baseRef)
    } catch (error) {
        if (!(isKeyfleetError(error) && error.code === 'GIT_FAILED')) throw error
        // The message names refs and paths only (src/validate/git.ts keeps git's stdout out of it).
        return { skipped: `base-ref "${baseRef}" is not in the fetched history (a first push, or a force-push), so there is no change table; the render went on. ${error.message}` }
    }
}

/**
 * Runs the render.
 *
 * @throws KeyfleetError from decryption (tampered file, wrong key), from
 *   rendering (`RENDER_MISSING_KEYS`, ...) and `RENDER_NO_DEPLOYMENT`.
 */
export const runRender = async (ctx: CommandContext): Promise<CommandResult> => {
    const { root, environment, identities, baseRef, outDir } = ctx.inputs
    // readInputs guarantees environment and identities for render.
    const env = environment as string
    const values = await decryptAndMask(root, env, identities, ctx.setSecret)
    const summary: string[] = []
    const outputs: Record<string, string> = {}
    const warnings: ActionWarning[] = []
    if (baseRef !== undefined) {
        const report = await optionalChangeReport(ctx, baseRef)
        if ('skipped' in report) {
            warnings.push({ title: 'keyfleet change table skipped', message: report.skipped })
            summary.push(`_Change table skipped: ${report.skipped}_\n`)
        } else {
            summary.push(changeReportMarkdown(report))
            outputs.changed = changedNames(report).join(',')
        }
    }
    const { catalog } = readRepoCatalog(root)
    assertEnvironment(catalog, env)

    const findings: Finding[] = await validateRepository({ root, environments: [env], identities: { [env]: [...identities] } })
    summary.unshift(findingsMarkdown(`Validation: ${env} (keyed)`, findings))
    if (hasErrors(findings)) return { findings, summary, outputs, failed: true, warnings }

    const parsed = await readDeployment(root, env, catalog)
    if (parsed === undefined) {
        throw new KeyfleetError('RENDER_NO_DEPLOYMENT', `${deploymentFile(env)} does not exist: describe the agents of ${env} there (see docs/deployment.md).`, { file: deploymentFile(env) })
    }
    if (parsed.deployment === undefined) {
        // validateRepository reports deployment.yaml problems; add any it did not.
        const extra = parsed.findings.filter((f) => !findings.some((g) => g.code === f.code && g.line === f.line && g.file === f.file))
        return { findings: [...findings, ...extra], summary, outputs, failed: true, warnings }
    }

    const out = await renderEnvironment({ env, values, deployment: parsed.deployment, catalog, allowDemoRecipients: isDemoRepository(root) })
    const target = outDir ?? ctx.workspace().path(join('render', env))
    await writeRenderOutput(out, target)

    const paths = out.files.map((f) => ({ path: join(target, f.path), sensitive: f.sensitive }))
    summary.push(registryMarkdown(out.registry))
    summary.push(filesMarkdown(outDir === undefined ? `Dry run: rendered and discarded (${env})` : `Rendered into ${outDir}`, out.files))
    if (outDir !== undefined) {
        outputs.rendered = paths.map((p) => p.path).join('\n')
        outputs.artifacts = paths.filter((p) => !p.sensitive).map((p) => p.path).join('\n')
    }
    outputs.generation = generationId(Object.entries(out.generation))
    outputs.agents = agentsOutput(out, parsed.deployment.agents)
    return { findings, summary, outputs, failed: false, warnings }
}
