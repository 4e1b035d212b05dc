/**
 * `command: rollout`: after the apply, which agents serve the render just
 * applied, waited for up to `timeout` (default 3m) and shown in the step
 * summary as a table and a mermaid chart. Reads pods through the API server
 * (kubectl get --raw, the pod proxy) with the environment's kubeconfig and
 * hosts through `status_url`. Agents still behind or unknown at the end are a
 * warning, not a failure: the kubelet delivers the Secret within its sync
 * period, and `keyfleet rotate-key` waits for the confirmation itself.
 * Needs no age-key: the expected ids come from the render step's `agents`.
 */
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadCatalog } from '../../catalog/index.js'
import { KeyfleetError } from '../../errors.js'
import { expectedAgents, kubectlReader } from '../../lifecycle/rollout-read.js'
import { parseDuration, rolloutMarkdown, rolloutVerdict, waitForRollout } from '../../lifecycle/rollout.js'
import { parseDeployment } from '../../render/index.js'
import { CATALOG_PATH, environmentPaths } from '../../repo/layout.js'
import type { CommandContext, CommandResult } from './types.js'

/** Waits for the rollout and reports it. Without a kubeconfig nothing is read (a notice says so). */
export const runRollout = async (ctx: CommandContext): Promise<CommandResult> => {
    const { kubeconfig, agents, environment, root } = ctx.inputs
    if (environment === undefined) throw new KeyfleetError('ACTION_BAD_INPUT', 'command "rollout" needs the environment input.')
    if (kubeconfig === '') {
        core.notice('no KUBECONFIG secret in this environment: the rollout was not read.', { title: 'keyfleet' })
        return { findings: [], summary: [], outputs: { complete: 'false' }, failed: false }
    }
    if (agents.length === 0) throw new KeyfleetError('ACTION_BAD_INPUT', 'command "rollout" needs the agents input: the render step\'s agents output.')
    const file = environmentPaths(environment).deployment
    const parsed = parseDeployment(readFileSync(join(root, file), 'utf8'), file, loadCatalog(join(root, CATALOG_PATH)))
    if (!parsed.deployment) throw new KeyfleetError('ACTION_BAD_INPUT', `${file} does not parse; the render step would have failed first.`, { file })
    const generation = Object.fromEntries(agents.map((a) => [a.name, a.generation ?? '']))
    const ws = ctx.workspace()
    ws.write('kubeconfig', kubeconfig)
    const reader = kubectlReader({ kubectl: ctx.env.KEYFLEET_KUBECTL || 'kubectl', env: { ...ctx.env, KUBECONFIG: ws.path('kubeconfig') } })
    const timeoutMs = parseDuration(ctx.inputs.timeout === '' ? '3m' : ctx.inputs.timeout, 'input timeout')
    const report = await waitForRollout(environment, expectedAgents(parsed.deployment, generation), reader, timeoutMs, async (ms) => { await sleep(ms); return true })
    core.info(rolloutVerdict(report))
    const warnings = report.complete ? [] : [{ title: 'keyfleet rollout incomplete', message: `${rolloutVerdict(report)} after ${ctx.inputs.timeout === '' ? '3m' : ctx.inputs.timeout}; see the step summary. Do not revoke an old key yet.` }]
    return { findings: [], summary: [rolloutMarkdown(report)], outputs: { complete: String(report.complete), rollout: JSON.stringify(report.counts) }, failed: false, warnings }
}
