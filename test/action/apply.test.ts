/**
 * The deploy workflow's "Apply to the cluster" step, run as written: its
 * `run:` script is taken from deploy-environment.yml and executed with bash,
 * fed the `agents` output of a real render by the bundled action, against a
 * fake `kubectl` on PATH that records its argv and answers from fixtures.
 * The point (issue 6): after the apply, each agent's pods are found through
 * its Deployment's own selector and annotated, so the kubelet refreshes the
 * Secret volume now; nothing relies on a label the render never sets.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { parse } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/tools.js'
import { demoKey, makeSandbox, runAction, type Sandbox } from './harness.js'

type Step = { name: string; if?: string; run?: string; env?: Record<string, string> }
const steps = (parse(readFileSync(join(repoRoot, '.github', 'workflows', 'deploy-environment.yml'), 'utf8')) as { jobs: { deploy: { steps: Step[] } } }).jobs.deploy.steps
const applyStep = steps.find((s) => s.name === 'Apply to the cluster') as Step

/**
 * A fake kubectl: appends its argv (one call per line, arguments joined by
 * U+001F) to $KUBECTL_LOG, and answers `get deployment` and `get pods` from
 * the JSON fixtures $KUBECTL_DEPLOYMENTS (`{"ns/name": matchLabels | null}`)
 * and $KUBECTL_PODS (`{"ns?selector": ["pod/a", ...]}`), like the real one:
 * the jsonpath of a map prints it as JSON, a missing Deployment exits 1.
 */
const FAKE_KUBECTL = `#!/usr/bin/env bash
set -euo pipefail
(IFS=$'\\x1f'; printf '%s\\n' "$*") >> "$KUBECTL_LOG"
arg() { local want="$1"; shift; while [ $# -gt 0 ]; do if [ "$1" = "$want" ]; then echo "$2"; return; fi; shift; done; }
case "$1 \${2:-}" in
  'apply -k') cp kustomization.yaml "$KUBECTL_LOG.kustomization" ;;
  'get deployment')
    key="$(arg --namespace "$@")/$3"
    jq -e --arg k "$key" 'has($k)' "$KUBECTL_DEPLOYMENTS" >/dev/null || { echo "Error from server (NotFound): deployments.apps \\"$3\\" not found" >&2; exit 1; }
    jq -cj --arg k "$key" '.[$k] // empty' "$KUBECTL_DEPLOYMENTS" ;;
  'get pods') jq -r --arg k "$(arg --namespace "$@")?$(arg -l "$@")" '.[$k] // [] | .[]' "$KUBECTL_PODS" ;;
  annotate*) ;;
  *) echo "fake kubectl: unexpected call: $*" >&2; exit 2 ;;
esac
`

const sandboxes: Sandbox[] = []
afterEach(() => { for (const sb of sandboxes.splice(0)) rmSync(sb.base, { recursive: true, force: true }) })

interface Applied { code: number | null; out: string; calls: string[][]; kustomization: string; agents: { name: string; generation: string | null }[] }

/**
 * Renders dev with the bundled action (support-bot's Deployment renamed to
 * chat-frontend), then runs the apply script with the action's `agents`
 * output and the given cluster fixtures.
 */
const renderAndApply = async (deployments: Record<string, Record<string, string> | null>, pods: Record<string, string[]>): Promise<Applied> => {
    const sb = makeSandbox()
    sandboxes.push(sb)
    const file = join(sb.workspace, 'environments/dev/deployment.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('namespace: agents-dev\n    keys: [claude, openai]', 'namespace: agents-dev\n    deployment: chat-frontend\n    keys: [claude, openai]'))
    const stepTemp = join(sb.base, 'step-temp')
    const rendered = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'out-dir': join(stepTemp, 'keyfleet-apply', 'render') })
    expect(rendered.code, rendered.stdout).toBe(0)

    const bin = join(sb.base, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'kubectl'), FAKE_KUBECTL)
    chmodSync(join(bin, 'kubectl'), 0o755)
    const log = join(sb.base, 'kubectl.log')
    writeFileSync(log, '')
    writeFileSync(join(sb.base, 'deployments.json'), JSON.stringify(deployments))
    writeFileSync(join(sb.base, 'pods.json'), JSON.stringify(pods))
    const result = spawnSync('bash', ['-c', applyStep.run as string], {
        cwd: sb.workspace, encoding: 'utf8',
        env: {
            PATH: [bin, process.env.PATH ?? ''].join(delimiter), HOME: sb.base, RUNNER_TEMP: stepTemp,
            KUBECONFIG_DATA: 'apiVersion: v1\nkind: Config\n', AGENTS: rendered.outputs.agents ?? '',
            KUBECTL_LOG: log, KUBECTL_DEPLOYMENTS: join(sb.base, 'deployments.json'), KUBECTL_PODS: join(sb.base, 'pods.json'),
        },
    })
    return {
        code: result.status,
        out: result.stdout + result.stderr,
        calls: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\x1f')),
        kustomization: readFileSync(`${log}.kustomization`, 'utf8'),
        agents: JSON.parse(rendered.outputs.agents ?? '[]') as Applied['agents'],
    }
}

const generationOf = (run: Applied, agent: string): string => run.agents.find((a) => a.name === agent)?.generation as string
const annotations = (run: Applied): string[][] => run.calls.filter((c) => c[0] === 'annotate')

describe('deploy workflow: refreshing the pods after the apply', () => {
    it('annotates the pods each Deployment selects, found through the selector of the Deployment the agent names', async () => {
        const run = await renderAndApply(
            {
                'agents-dev/chat-frontend': { app: 'chat', tier: 'web' },
                'agents-dev/research-agent': { 'app.kubernetes.io/name': 'research' },
                'batch-dev/batch-summarizer': { app: 'batch' },
            },
            {
                'agents-dev?app=chat,tier=web': ['pod/chat-frontend-7d9f-abcde', 'pod/chat-frontend-7d9f-fghij'],
                'agents-dev?app.kubernetes.io/name=research': ['pod/research-agent-5c4b-klmno'],
                'batch-dev?app=batch': ['pod/batch-summarizer-0'],
            },
        )
        expect(run.code, run.out).toBe(0)
        expect(run.calls[0]).toEqual(['apply', '-k', '.'])
        expect(run.kustomization).toContain('  - render/agents-dev/secrets/support-bot.yaml')
        // The Deployment the agent names (support-bot -> chat-frontend), never a label the render does not set.
        expect(run.calls).toContainEqual(['get', 'deployment', 'chat-frontend', '--namespace', 'agents-dev', '-o', 'jsonpath={.spec.selector.matchLabels}'])
        expect(run.calls).toContainEqual(['get', 'pods', '--namespace', 'agents-dev', '-l', 'app=chat,tier=web', '-o', 'name'])
        expect(run.calls.flat().some((a) => a.includes('app.kubernetes.io/instance'))).toBe(false)
        expect(annotations(run)).toEqual([
            ['annotate', '--namespace', 'batch-dev', 'pod/batch-summarizer-0', `keyfleet.dev/generation=${generationOf(run, 'batch-summarizer')}`, '--overwrite'],
            ['annotate', '--namespace', 'agents-dev', 'pod/research-agent-5c4b-klmno', `keyfleet.dev/generation=${generationOf(run, 'research-agent')}`, '--overwrite'],
            ['annotate', '--namespace', 'agents-dev', 'pod/chat-frontend-7d9f-abcde', 'pod/chat-frontend-7d9f-fghij', `keyfleet.dev/generation=${generationOf(run, 'support-bot')}`, '--overwrite'],
        ])
        expect(generationOf(run, 'support-bot')).toMatch(/^[0-9a-f]{16}$/)
        // Bundle agents have no pods; the pod template is never touched (that would restart the pods).
        expect(run.calls.flat()).not.toContain('alice-laptop')
        expect(run.calls.some((c) => c[0] === 'patch' || c[0] === 'rollout' || c[0] === 'label')).toBe(false)
        expect(run.out).not.toContain('::warning')
    })

    it('warns and goes on when a Deployment is missing, has no matchLabels or no pods: the Secrets are applied either way', async () => {
        const run = await renderAndApply(
            { 'agents-dev/research-agent': null, 'batch-dev/batch-summarizer': { app: 'batch' } },
            { 'batch-dev?app=batch': [] },
        )
        expect(run.code, run.out).toBe(0)
        expect(run.out).toMatch(/::warning title=keyfleet pods not refreshed::agent support-bot: cannot read Deployment agents-dev\/chat-frontend/)
        expect(run.out).toMatch(/::warning title=keyfleet pods not refreshed::agent research-agent: Deployment agents-dev\/research-agent has no selector\.matchLabels/)
        expect(run.out).toContain('agent batch-summarizer: Deployment batch-dev/batch-summarizer has no pods to refresh')
        expect(annotations(run)).toEqual([])
        expect(run.calls[0]).toEqual(['apply', '-k', '.'])
    })
})
