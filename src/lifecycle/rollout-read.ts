/**
 * How `rollout status` reads what agents serve: kubernetes pods through the
 * API server (`kubectl get --raw`, the current kubeconfig: the Deployment's
 * selector, its Running pods, then each pod's status through the pod proxy,
 * so no port is exposed outside the cluster), hosts through their
 * `status_url`. Only `--raw` requests: no discovery, one request each.
 */
import { execa } from 'execa'
import type { Deployment } from '../render/index.js'
import { parseStatusAnswer, type ExpectedAgent, type Observation, type StatusReader } from './rollout.js'

/** Options of {@link kubectlReader}. */
export interface KubectlReaderOptions {
    /** The kubectl binary (default `kubectl`). */
    readonly kubectl?: string | undefined
    /** Environment of kubectl (KUBECONFIG, HOME); default: the caller's. */
    readonly env?: NodeJS.ProcessEnv | undefined
    /** Per request, default 10 s. */
    readonly timeoutMs?: number | undefined
    /** Status path on the agent's status server (default `/keyfleet/status`). */
    readonly statusPath?: string | undefined
}

/** Builds the {@link ExpectedAgent}s of a deployment from a render's generation ids. */
export const expectedAgents = (deployment: Deployment, generation: Readonly<Record<string, string>>): ExpectedAgent[] =>
    deployment.agents.map((a) => ({
        name: a.name, target: a.target, namespace: a.namespace, deployment: a.deployment,
        statusPort: a.statusPort, statusUrl: a.statusUrl, ...(a.region === undefined ? {} : { region: a.region }), generation: generation[a.name] ?? '',
    }))

// kubectl's first stderr line names the failure (NotFound, Forbidden, connection refused); nothing of the agent's answer.
const firstLine = (text: string): string => (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 160)

interface PodList { items?: { metadata?: { name?: string; deletionTimestamp?: string }; status?: { phase?: string } }[] }

/** A {@link StatusReader} that asks the API server with kubectl. */
export const kubectlReader = (options: KubectlReaderOptions = {}): StatusReader => {
    const raw = async (path: string): Promise<{ ok: true; text: string } | { ok: false; why: string }> => {
        const r = await execa(options.kubectl ?? 'kubectl', ['get', '--raw', path], {
            reject: false, env: options.env, extendEnv: options.env === undefined, timeout: options.timeoutMs ?? 10_000, verbose: 'none', stdin: 'ignore',
        })
        if ((r as { code?: string }).code === 'ENOENT') return { ok: false, why: 'kubectl is not installed (or KEYFLEET_KUBECTL is wrong)' }
        if (r.failed) return { ok: false, why: r.timedOut ? 'kubectl timed out' : firstLine(String(r.stderr)) || `kubectl exit ${String(r.exitCode)}` }
        return { ok: true, text: String(r.stdout) }
    }
    const statusPath = options.statusPath ?? '/keyfleet/status'
    return {
        kubernetes: async (agent) => {
            const ns = encodeURIComponent(agent.namespace ?? '')
            const dep = await raw(`/apis/apps/v1/namespaces/${ns}/deployments/${encodeURIComponent(agent.deployment ?? agent.name)}`)
            if (!dep.ok) return `cannot read Deployment ${agent.namespace ?? ''}/${agent.deployment ?? ''}: ${dep.why}`
            let labels: unknown
            try { labels = (JSON.parse(dep.text) as { spec?: { selector?: { matchLabels?: unknown } } }).spec?.selector?.matchLabels } catch { labels = undefined }
            if (typeof labels !== 'object' || labels === null || Object.keys(labels).length === 0) return `Deployment ${agent.namespace ?? ''}/${agent.deployment ?? ''} has no selector.matchLabels`
            const selector = Object.entries(labels as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(',')
            const list = await raw(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`)
            if (!list.ok) return `cannot list the pods of ${agent.namespace ?? ''}/${agent.deployment ?? ''}: ${list.why}`
            let pods: PodList
            try { pods = JSON.parse(list.text) as PodList } catch { return 'the pod list is not JSON' }
            const running = (pods.items ?? []).filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined && typeof p.metadata?.name === 'string')
            return Promise.all(running.map(async (p): Promise<Observation> => {
                const name = p.metadata?.name as string
                const answer = await raw(`/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}:${agent.statusPort}/proxy${statusPath}`)
                if (!answer.ok) return { where: name, generation: undefined, healthy: undefined, reason: `status on port ${agent.statusPort} unreachable (${answer.why})` }
                const parsed = parseStatusAnswer(answer.text)
                if (typeof parsed === 'string') return { where: name, generation: undefined, healthy: undefined, reason: parsed }
                return { where: name, generation: parsed.generation, healthy: parsed.healthy, reason: parsed.generation === undefined ? 'serves no keyfleet source' : undefined }
            }))
        },
        host: async (_agent, url) => {
            try {
                const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000), headers: { accept: 'application/json' } })
                if (!res.ok) return { where: 'host', generation: undefined, healthy: undefined, reason: `status_url answered HTTP ${res.status}` }
                const parsed = parseStatusAnswer(await res.text())
                if (typeof parsed === 'string') return { where: 'host', generation: undefined, healthy: undefined, reason: parsed }
                return { where: 'host', generation: parsed.generation, healthy: parsed.healthy, reason: parsed.generation === undefined ? 'serves no keyfleet source' : undefined }
            } catch (error) {
                const code = (error as { cause?: { code?: unknown } }).cause?.code
                return { where: 'host', generation: undefined, healthy: undefined, reason: `status_url unreachable (${typeof code === 'string' ? code : (error as Error).name})` }
            }
        },
    }
}
