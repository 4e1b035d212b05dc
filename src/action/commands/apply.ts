/**
 * `command: apply`: applies the rendered Secrets of one environment and asks
 * the kubelet to refresh the agents' Secret volumes now.
 *
 * - `kubectl apply --server-side --field-manager=keyfleet --force-conflicts`:
 *   a client-side apply copies the whole object, Secret data included, into
 *   the `kubectl.kubernetes.io/last-applied-configuration` annotation; a
 *   server-side apply keeps no such copy. keyfleet is the source of truth
 *   for these Secrets, so it takes over fields another manager set.
 * - each kubernetes agent's pods are found through its Deployment's own
 *   selector (the render labels no pod) and annotated with the generation;
 *   a refresh that cannot be done is a warning, not a failure. RBAC needed
 *   (docs/ci-setup.md, proven least by test/action/apply-kube.test.ts against
 *   a real API server): Secrets create/patch (a server-side apply is one
 *   PATCH, no read), Deployments get, pods get/list/patch (kubectl
 *   annotate reads each pod before patching it).
 *
 * The kubeconfig is masked as it is read (inputs.ts), written 0600 into the
 * private workspace, passed to kubectl by path and removed with it.
 */
import * as core from '@actions/core'
import { execa } from 'execa'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import type { ActionWarning, CommandContext, CommandResult } from './types.js'

/** The field manager of every keyfleet apply. */
export const FIELD_MANAGER = 'keyfleet'

/** The kubectl argv that applies `files`. */
export const applyArgs = (files: readonly string[]): string[] => ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', ...files.flatMap((f) => ['-f', f])]

/** The rendered Secret manifests under `renderDir` (`<namespace>/secrets/*.yaml`), sorted. */
export const secretFiles = (renderDir: string): string[] => {
    const out: string[] = []
    const walk = (dir: string): void => {
        for (const name of readdirSync(dir).sort()) {
            const path = join(dir, name)
            if (statSync(path).isDirectory()) walk(path)
            else if (name.endsWith('.yaml') && dir.endsWith('/secrets')) out.push(path)
        }
    }
    walk(renderDir)
    return out.sort()
}

/** `{"app":"x"}` → `app=x`; undefined when there is no label to select by. */
export const selectorOf = (matchLabels: string): string | undefined => {
    let labels: unknown
    try { labels = JSON.parse(matchLabels === '' ? '{}' : matchLabels) } catch { return undefined }
    if (labels === null || typeof labels !== 'object') return undefined
    const parts = Object.entries(labels as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`)
    return parts.length > 0 ? parts.join(',') : undefined
}

/** Applies and refreshes. Without a kubeconfig nothing is applied (a notice says so). */
export const runApply = async (ctx: CommandContext): Promise<CommandResult> => {
    const { kubeconfig, outDir, agents } = ctx.inputs
    if (kubeconfig === '') {
        core.notice('no KUBECONFIG secret in this environment: nothing was applied (the safe artifacts are still uploaded).', { title: 'keyfleet' })
        return { findings: [], summary: [], outputs: { applied: 'false' }, failed: false }
    }
    if (outDir === undefined) throw new KeyfleetError('ACTION_BAD_INPUT', 'command "apply" needs out-dir: the directory the render step wrote (its out-dir).')
    const files = secretFiles(outDir)
    const ws = ctx.workspace()
    const config = ws.path('kubeconfig')
    ws.write('kubeconfig', kubeconfig)
    const kubectl = ctx.env.KEYFLEET_KUBECTL || 'kubectl'
    const run = (args: readonly string[]) => execa(kubectl, [...args], { reject: false, verbose: 'none', extendEnv: false, env: { ...ctx.env, KUBECONFIG: config } })

    const applied = await run(applyArgs(files))
    if ((applied as { code?: string }).code === 'ENOENT') throw new KeyfleetError('ACTION_KUBECTL_FAILED', 'kubectl is not on this runner; use an image that has it.')
    // kubectl's own message is not repeated: an invalid-object error can quote the manifest, i.e. a key.
    if (applied.failed) throw new KeyfleetError('ACTION_KUBECTL_FAILED', `kubectl apply failed (exit ${String(applied.exitCode ?? '?')}); check the kubeconfig, the cluster and the Role of docs/ci-setup.md.`)
    if (String(applied.stdout) !== '') core.info(String(applied.stdout).trimEnd())

    const warnings: ActionWarning[] = []
    const skip = (message: string): void => { warnings.push({ title: 'keyfleet pods not refreshed', message: `${message}; its pods get the new Secret within the kubelet sync period (60-90 s).` }) }
    for (const a of agents.filter((x) => x.target === 'kubernetes' && x.namespace !== null && x.deployment !== null)) {
        const ns = a.namespace as string
        const dep = a.deployment as string
        const d = await run(['get', 'deployment', dep, '--namespace', ns, '-o', 'jsonpath={.spec.selector.matchLabels}'])
        if (d.failed) { skip(`agent ${a.name}: cannot read Deployment ${ns}/${dep}`); continue }
        const selector = selectorOf(String(d.stdout).trim())
        if (selector === undefined) { skip(`agent ${a.name}: Deployment ${ns}/${dep} has no selector.matchLabels`); continue }
        const p = await run(['get', 'pods', '--namespace', ns, '-l', selector, '-o', 'name'])
        if (p.failed) { skip(`agent ${a.name}: cannot list the pods of Deployment ${ns}/${dep}`); continue }
        const pods = String(p.stdout).split('\n').map((l) => l.trim()).filter((l) => l !== '')
        if (pods.length === 0) { core.info(`agent ${a.name}: Deployment ${ns}/${dep} has no pods to refresh`); continue }
        const n = await run(['annotate', '--namespace', ns, ...pods, `keyfleet.dev/generation=${a.generation ?? ''}`, '--overwrite'])
        if (n.failed) skip(`agent ${a.name}: annotating the pods of Deployment ${ns}/${dep} failed (${String(n.stderr).split('\n')[0]?.slice(0, 200)})`)
    }
    return { findings: [], summary: [], outputs: { applied: 'true' }, failed: false, warnings }
}
