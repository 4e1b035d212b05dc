/**
 * `command: render`: decrypt (masking every value first), keyed validation,
 * then the manifests, bundles and registry of one environment into out-dir.
 * Without out-dir it is a dry run: the render goes to the private workspace
 * under RUNNER_TEMP and is deleted when the step ends.
 */
import { KeyfleetError } from '../../errors.js'
import { hasErrors, type Finding } from '../../findings.js'
import { generationId, registryMarkdown, renderEnvironment, writeRenderOutput, type RenderOutput } from '../../render/index.js'
import { changeReportMarkdown, validateRepository } from '../../validate/index.js'
import { readRepoCatalog } from '../../validate/repository.js'
import { assertEnvironment, deploymentFile, readDeployment } from '../repo.js'
import { decryptAndMask } from '../secrets.js'
import { filesMarkdown, findingsMarkdown } from '../summary.js'
import { changedNames, reportChanges } from './diff.js'
import type { CommandContext, CommandResult } from './types.js'
import { join } from 'node:path'

/** The `agents` output: what the deploy workflow needs to annotate pods. */
export const agentsOutput = (out: RenderOutput): string =>
    JSON.stringify(out.registry.agents.map((a) => ({
        name: a.name, target: a.target, namespace: a.namespace ?? null, generation: out.generation[a.name] ?? null,
    })))

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
    if (baseRef !== undefined) {
        const report = await reportChanges(ctx, baseRef)
        summary.push(changeReportMarkdown(report))
        outputs.changed = changedNames(report).join(',')
    }
    const { catalog } = readRepoCatalog(root)
    assertEnvironment(catalog, env)

    const findings: Finding[] = await validateRepository({ root, environments: [env], identities: { [env]: [...identities] } })
    summary.unshift(findingsMarkdown(`Validation: ${env} (keyed)`, findings))
    if (hasErrors(findings)) return { findings, summary, outputs, failed: true }

    const parsed = await readDeployment(root, env, catalog)
    if (parsed === undefined) {
        throw new KeyfleetError('RENDER_NO_DEPLOYMENT', `${deploymentFile(env)} does not exist: describe the agents of ${env} there (see docs/deployment.md).`, { file: deploymentFile(env) })
    }
    if (parsed.deployment === undefined) {
        // validateRepository reports deployment.yaml problems; add any it did not.
        const extra = parsed.findings.filter((f) => !findings.some((g) => g.code === f.code && g.line === f.line && g.file === f.file))
        return { findings: [...findings, ...extra], summary, outputs, failed: true }
    }

    const out = await renderEnvironment({ env, values, deployment: parsed.deployment, catalog })
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
    outputs.agents = agentsOutput(out)
    return { findings, summary, outputs, failed: false }
}
