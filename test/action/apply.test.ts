/*
 * The deploy workflow's apply step, run as the runner does: the bundled
 * action with `command: apply`, fed the `agents` output of a real render,
 * against a fake `kubectl` on PATH that records its argv, answers from
 * fixtures and enforces RBAC like the API server would for each call,
 * from the Role documented in docs/ci-setup.md.
 *
 * Issue 6: each agent's pods are found through its Deployment's own selector
 * and annotated. Issue 13, finding 14: the Secrets go through a server-side
 * apply (no last-applied-configuration copy of their data), and the
 * documented Role is the least that lets the refresh work: `kubectl
 * annotate` reads each pod before patching it, so pods need `get` as well as
 * `list` and `patch`. The verbs each kubectl call needs are modelled here;
 * apply-kube.test.ts proves the same against a real kube-apiserver (and
 * found that a server-side apply needs no `get` on Secrets).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import { findLeaks } from '../helpers/canary.js'
import { repoRoot } from '../helpers/tools.js'
import { demoKey, makeSandbox, pathWithSops, runAction, type Sandbox } from './harness.js'

/** The Role of docs/ci-setup.md, as resource → verbs. */
const documentedRole = (): Record<string, string[]> => {
    const doc = readFileSync(join(repoRoot, 'docs', 'ci-setup.md'), 'utf8')
    const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.includes('name: keyfleet-deploy'))
    if (block === undefined) throw new Error('docs/ci-setup.md has no Role keyfleet-deploy')
    const role = parseAllDocuments(block).map((d) => d.toJS() as { kind: string; rules?: { resources: string[]; verbs: string[] }[] }).find((d) => d.kind === 'Role')
    const out: Record<string, string[]> = {}
    for (const r of role?.rules ?? []) for (const res of r.resources) out[res] = [...(out[res] ?? []), ...r.verbs]
    return out
}

/*
 * A fake kubectl: appends its argv (one call per line, arguments joined by
 * U+001F) to $KUBECTL_LOG, refuses a call whose verbs $KUBECTL_ROLE
 * ({"pods": ["get", ...]}) does not grant ("Forbidden", as the API server
 * does), and answers `get deployment` / `get pods` from $KUBECTL_DEPLOYMENTS
 * ({"ns/name": matchLabels | null}) and $KUBECTL_PODS ({"ns?selector": [...]}).
 */
const FAKE_KUBECTL = `#!/usr/bin/env bash
set -euo pipefail
(IFS=$'\\x1f'; printf '%s\\n' "$*") >> "$KUBECTL_LOG"
arg() { local want="$1"; shift; while [ $# -gt 0 ]; do if [ "$1" = "$want" ]; then echo "$2"; return; fi; shift; done; }
need() { jq -e --arg r "$1" --arg v "$2" '(.[$r] // []) | index($v) != null' "$KUBECTL_ROLE" >/dev/null || { echo "Error from server (Forbidden): User cannot $2 resource \\"$1\\"" >&2; exit 1; }; }
[ -f "$KUBECONFIG" ] && [ "$(stat -c %a "$KUBECONFIG")" = 600 ] || { echo "fake kubectl: no private KUBECONFIG" >&2; exit 2; }
cp "$KUBECONFIG" "$KUBECTL_LOG.kubeconfig"
case "$1 \${2:-}" in
  'apply --server-side') need secrets create; need secrets patch
    shift; while [ $# -gt 0 ]; do if [ "$1" = -f ]; then echo "secret/$(basename "$2" .yaml) serverside-applied"; fi; shift; done ;;
  'get deployment') need deployments get
    key="$(arg --namespace "$@")/$3"
    jq -e --arg k "$key" 'has($k)' "$KUBECTL_DEPLOYMENTS" >/dev/null || { echo "Error from server (NotFound): deployments.apps \\"$3\\" not found" >&2; exit 1; }
    jq -cj --arg k "$key" '.[$k] // empty' "$KUBECTL_DEPLOYMENTS" ;;
  'get pods') need pods list; jq -r --arg k "$(arg --namespace "$@")?$(arg -l "$@")" '.[$k] // [] | .[]' "$KUBECTL_PODS" ;;
  annotate*) need pods get; need pods patch ;;
  *) echo "fake kubectl: unexpected call: $*" >&2; exit 2 ;;
esac
`

const sandboxes: Sandbox[] = []
afterEach(() => { for (const sb of sandboxes.splice(0)) rmSync(sb.base, { recursive: true, force: true }) })

const KUBECONFIG_TEXT = 'apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: kubeconfig-canary-token-0123456789\n'
const FIXTURES = {
    deployments: { 'agents-dev/chat-frontend': { app: 'chat', tier: 'web' }, 'agents-dev/research-agent': { 'app.kubernetes.io/name': 'research' }, 'batch-dev/batch-summarizer': { app: 'batch' } },
    pods: { 'agents-dev?app=chat,tier=web': ['pod/chat-frontend-7d9f-abcde', 'pod/chat-frontend-7d9f-fghij'], 'agents-dev?app.kubernetes.io/name=research': ['pod/research-agent-5c4b-klmno'], 'batch-dev?app=batch': ['pod/batch-summarizer-0'] },
}

interface Applied { code: number | null; out: string; calls: string[][]; kubeconfig: string; renderDir: string; runnerTemp: string; agents: { name: string; generation: string | null }[] }

/**
 * Renders dev with the bundled action (support-bot's Deployment renamed to
 * chat-frontend), then runs `command: apply` with the render's `agents`.
 */
const renderAndApply = async (deployments: Record<string, Record<string, string> | null>, pods: Record<string, string[]>, role = documentedRole(), kubeconfig = KUBECONFIG_TEXT): Promise<Applied> => {
    const sb = makeSandbox()
    sandboxes.push(sb)
    const file = join(sb.workspace, 'environments/dev/deployment.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('namespace: agents-dev\n    keys: [claude, openai]', 'namespace: agents-dev\n    deployment: chat-frontend\n    keys: [claude, openai]'))
    const renderDir = join(sb.base, 'step-temp', 'keyfleet-apply', 'render')
    const rendered = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'out-dir': renderDir }, { PATH: pathWithSops() })
    expect(rendered.code, rendered.stdout).toBe(0)

    const bin = join(sb.base, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'kubectl'), FAKE_KUBECTL)
    chmodSync(join(bin, 'kubectl'), 0o755)
    const log = join(sb.base, 'kubectl.log')
    writeFileSync(log, '')
    writeFileSync(join(sb.base, 'deployments.json'), JSON.stringify(deployments))
    writeFileSync(join(sb.base, 'pods.json'), JSON.stringify(pods))
    writeFileSync(join(sb.base, 'role.json'), JSON.stringify(role))
    const run = await runAction(sb, { command: 'apply', environment: 'dev', kubeconfig, 'out-dir': renderDir, agents: rendered.outputs.agents ?? '' }, {
        PATH: [bin, process.env.PATH ?? ''].join(delimiter),
        KUBECTL_LOG: log, KUBECTL_DEPLOYMENTS: join(sb.base, 'deployments.json'), KUBECTL_PODS: join(sb.base, 'pods.json'), KUBECTL_ROLE: join(sb.base, 'role.json'),
    })
    return {
        code: run.code,
        out: run.stdout + run.stderr,
        calls: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\x1f')),
        kubeconfig: existsSync(`${log}.kubeconfig`) ? readFileSync(`${log}.kubeconfig`, 'utf8') : '',
        renderDir, runnerTemp: sb.runnerTemp,
        agents: JSON.parse(rendered.outputs.agents ?? '[]') as Applied['agents'],
    }
}

const generationOf = (run: Applied, agent: string): string => run.agents.find((a) => a.name === agent)?.generation as string
const annotations = (run: Applied): string[][] => run.calls.filter((c) => c[0] === 'annotate')
const unmasked = (run: Applied): string => run.out.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')

describe('apply: the Secrets, server-side', () => {
    it('applies every rendered Secret with --server-side --field-manager=keyfleet, the kubeconfig by a private file only', async () => {
        const run = await renderAndApply(FIXTURES.deployments, FIXTURES.pods)
        expect(run.code, run.out).toBe(0)
        const apply = run.calls[0] as string[]
        expect(apply.slice(0, 4)).toEqual(['apply', '--server-side', '--field-manager=keyfleet', '--force-conflicts'])
        const files = apply.slice(4).filter((_, i) => i % 2 === 1)
        expect(apply.slice(4).filter((_, i) => i % 2 === 0).every((f) => f === '-f')).toBe(true)
        expect(files.length).toBeGreaterThan(0)
        expect(files.every((f) => f.startsWith(join(run.renderDir, '')) && /\/secrets\/[^/]+\.yaml$/.test(f))).toBe(true)
        expect(files).toContain(join(run.renderDir, 'agents-dev', 'secrets', 'support-bot.yaml'))
        expect(run.calls.flat().some((a) => a === '-k' || a.includes('last-applied') || a === '--save-config')).toBe(false)
        expect(run.kubeconfig).toBe(KUBECONFIG_TEXT)
        expect(run.calls.flat().join('\n')).not.toContain('kubeconfig-canary-token')
        expect(findLeaks('kubeconfig-canary-token-0123456789', { output: unmasked(run), argv: run.calls.flat().join('\n') })).toEqual([])
        // Each line of the kubeconfig is masked, so a token printed alone is hidden too.
        expect(run.out).toContain('::add-mask::token: kubeconfig-canary-token-0123456789')
        // The kubeconfig lived in the private workspace and went with it.
        expect((readdirSync(run.runnerTemp, { recursive: true }) as string[]).filter((p) => p.includes('kubeconfig'))).toEqual([])
    })

    it('applies nothing, with a notice, when the environment has no KUBECONFIG', async () => {
        const run = await renderAndApply(FIXTURES.deployments, FIXTURES.pods, documentedRole(), '')
        expect(run.code, run.out).toBe(0)
        expect(run.calls).toEqual([])
        expect(run.out).toContain('::notice title=keyfleet::no KUBECONFIG secret in this environment: nothing was applied')
    })
})

describe('apply: failures', () => {
    const bare = async (kubectl: string): Promise<{ code: number | null; out: string }> => {
        const sb = makeSandbox()
        sandboxes.push(sb)
        const dir = join(sb.base, 'render')
        mkdirSync(join(dir, 'agents-dev', 'secrets'), { recursive: true })
        writeFileSync(join(dir, 'agents-dev', 'secrets', 'support-bot.yaml'), 'kind: Secret\n')
        const r = await runAction(sb, { command: 'apply', environment: 'dev', kubeconfig: KUBECONFIG_TEXT, 'out-dir': dir, agents: '[]' }, { KEYFLEET_KUBECTL: kubectl })
        return { code: r.code, out: r.stdout + r.stderr }
    }

    it('fails with ACTION_KUBECTL_FAILED when kubectl is missing', async () => {
        const r = await bare('/nonexistent/kubectl')
        expect(r.code).toBe(1)
        expect(r.out).toContain('::error title=ACTION_KUBECTL_FAILED::ACTION_KUBECTL_FAILED: kubectl is not on this runner')
    })

    it('fails without repeating what kubectl printed (it can quote the manifest)', async () => {
        const sb = makeSandbox()
        sandboxes.push(sb)
        const fake = join(sb.base, 'kubectl-fails')
        writeFileSync(fake, '#!/usr/bin/env bash\necho "The Secret is invalid: data: Invalid value: sk-quoted-value" >&2\nexit 1\n')
        chmodSync(fake, 0o755)
        const r = await bare(fake)
        expect(r.code).toBe(1)
        expect(r.out).toContain('kubectl apply failed (exit 1)')
        expect(r.out).not.toContain('sk-quoted-value')
    })
})

describe('apply: refreshing the pods', () => {
    it('annotates the pods each Deployment selects, found through the selector of the Deployment the agent names', async () => {
        const run = await renderAndApply(FIXTURES.deployments, FIXTURES.pods)
        expect(run.code, run.out).toBe(0)
        expect(run.calls).toContainEqual(['get', 'deployment', 'chat-frontend', '--namespace', 'agents-dev', '-o', 'jsonpath={.spec.selector.matchLabels}'])
        expect(run.calls).toContainEqual(['get', 'pods', '--namespace', 'agents-dev', '-l', 'app=chat,tier=web', '-o', 'name'])
        expect(run.calls.flat().some((a) => a.includes('app.kubernetes.io/instance'))).toBe(false)
        expect(annotations(run)).toEqual([
            ['annotate', '--namespace', 'batch-dev', 'pod/batch-summarizer-0', `keyfleet.dev/generation=${generationOf(run, 'batch-summarizer')}`, '--overwrite'],
            ['annotate', '--namespace', 'agents-dev', 'pod/research-agent-5c4b-klmno', `keyfleet.dev/generation=${generationOf(run, 'research-agent')}`, '--overwrite'],
            ['annotate', '--namespace', 'agents-dev', 'pod/chat-frontend-7d9f-abcde', 'pod/chat-frontend-7d9f-fghij', `keyfleet.dev/generation=${generationOf(run, 'support-bot')}`, '--overwrite'],
        ])
        expect(generationOf(run, 'support-bot')).toMatch(/^[0-9a-f]{16}$/)
        expect(run.calls.flat()).not.toContain('alice-laptop')
        expect(run.calls.some((c) => c[0] === 'patch' || c[0] === 'rollout' || c[0] === 'label')).toBe(false)
        expect(run.out).not.toContain('::warning')
    })

    it('warns and goes on when a Deployment is missing, has no matchLabels or no pods: the Secrets are applied either way', async () => {
        const run = await renderAndApply({ 'agents-dev/research-agent': null, 'batch-dev/batch-summarizer': { app: 'batch' } }, { 'batch-dev?app=batch': [] })
        expect(run.code, run.out).toBe(0)
        expect(run.out).toMatch(/::warning title=keyfleet pods not refreshed::agent support-bot: cannot read Deployment agents-dev\/chat-frontend/)
        expect(run.out).toMatch(/::warning title=keyfleet pods not refreshed::agent research-agent: Deployment agents-dev\/research-agent has no selector\.matchLabels/)
        expect(run.out).toContain('agent batch-summarizer: Deployment batch-dev/batch-summarizer has no pods to refresh')
        expect(annotations(run)).toEqual([])
        expect(run.calls[0]?.[0]).toBe('apply')
    })
})

describe('apply: the documented Role', () => {
    it('grants exactly what the apply and the refresh use: Secrets create/patch, Deployments get, pods get/list/patch', () => {
        const role = documentedRole()
        expect(role.pods?.sort()).toEqual(['get', 'list', 'patch'])
        expect(role.deployments).toEqual(['get'])
        expect(role.secrets?.sort()).toEqual(['create', 'patch'])
    })

    it('is enough: with it every pod is refreshed, no warning', async () => {
        const run = await renderAndApply(FIXTURES.deployments, FIXTURES.pods)
        expect(run.out).not.toContain('::warning')
        expect(annotations(run)).toHaveLength(3)
    })

    it('is the least for the refresh: without any one of its pod or Deployment verbs the refresh warns', async () => {
        const role = documentedRole()
        for (const [resource, verb] of [['pods', 'get'], ['pods', 'list'], ['pods', 'patch'], ['deployments', 'get']] as const) {
            const reduced = { ...role, [resource]: (role[resource] ?? []).filter((v) => v !== verb) }
            const run = await renderAndApply(FIXTURES.deployments, FIXTURES.pods, reduced)
            expect(run.code, `${resource} ${verb}`).toBe(0)
            expect(run.out, `without ${verb} on ${resource}`).toContain('::warning title=keyfleet pods not refreshed::')
        }
    })
})
