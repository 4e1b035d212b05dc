/**
 * `keyfleet rollout status` against a real kube-apiserver v1.33.13
 * (test/helpers/kube.ts) with the pinned kubectl: Deployments and pods in the
 * API server (pods given a Running status and this machine's address as their
 * pod IP), each pod's status served by a real loader listening on that address,
 * reached only through the API server's pod proxy. Also as a ServiceAccount
 * holding exactly the `keyfleet-rollout` Role of docs/ci-setup.md, and without
 * `pods/proxy`.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openKeys, type KeyStore } from '../../src/loader/index.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { requireKubeTools, startKube, type Kube } from '../helpers/kube.js'
import { repoRoot, sopsPath } from '../helpers/tools.js'
import { demoKey as demoKeyText, makeSandbox, runAction } from '../action/harness.js'
import { cleanupTemp, tempDir } from '../loader/helpers.js'
import { KubeletVolume, type Payload } from '../loader/kubelet.js'

let kube: Kube | undefined
let repo = ''
let rendered = ''
const stores: KeyStore[] = []
const AGENTS = [['support-bot', 'agents-dev'], ['research-agent', 'agents-dev'], ['batch-summarizer', 'batch-dev']] as const
const volumes = new Map<string, KubeletVolume>()

const must = async (args: string[], input?: string): Promise<string> => {
    const r = await (kube as Kube).kubectl(args, input === undefined ? {} : { input })
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
}
const payloadOf = (agent: string, ns: string): Payload => {
    const secret = parseYaml(readFileSync(join(rendered, ns, 'secrets', `${agent}.yaml`), 'utf8')) as { data: Record<string, string> }
    return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}
const rollout = (kubeconfig: string, ...extra: string[]): ReturnType<typeof keyfleet> =>
    keyfleet(['rollout', 'status', 'dev', '--identity-file', demoKey(repo, 'dev'), ...extra], { cwd: repo, env: { KUBECONFIG: kubeconfig, KEYFLEET_KUBECTL: (kube as Kube).kubectlPath } })

/** The keyfleet-rollout Role of docs/ci-setup.md, exactly as documented. */
const documentedRole = (): { metadata: { name: string }; rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] } => {
    const doc = readFileSync(join(repoRoot, 'docs', 'ci-setup.md'), 'utf8')
    const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.includes('name: keyfleet-rollout'))
    const role = block && parseAllDocuments(block).map((d) => d.toJS() as ReturnType<typeof documentedRole> & { kind: string }).find((d) => d.kind === 'Role')
    if (!role) throw new Error('docs/ci-setup.md has no Role keyfleet-rollout')
    return role
}
const grant = async (role: ReturnType<typeof documentedRole>): Promise<void> => {
    for (const ns of ['agents-dev', 'batch-dev']) {
        await must(['delete', 'role,rolebinding', 'keyfleet-rollout', '-n', ns, '--ignore-not-found'])
        await must(['create', '-f', '-'], [
            { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'keyfleet-rollout', namespace: ns }, rules: role.rules },
            { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'keyfleet-rollout', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'keyfleet-rollout' }, subjects: [{ kind: 'ServiceAccount', name: 'keyfleet-ci', namespace: 'keyfleet-ci' }] },
        ].map((d) => stringify(d)).join('---\n'))
    }
}

beforeAll(async () => {
    const tools = await requireKubeTools('test/cli/rollout-kube.test.ts')
    if (tools === undefined) return
    kube = await startKube(tools)
    for (const ns of ['agents-dev', 'batch-dev', 'keyfleet-ci']) await kube.namespace(ns)
    repo = makeDemoRepo()
    rendered = tempDir('rollout-kube-render')
    const r = await keyfleet(['render', 'dev', '--out', rendered, '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
    expect(r.code, r.stderr).toBe(0)
    let text = readFileSync(join(repo, 'environments', 'dev', 'deployment.yaml'), 'utf8')
    for (const [agent, ns] of AGENTS) {
        const vol = new KubeletVolume(join(tempDir('rollout-kube', { tmpfs: true }), 'keys'))
        // research-agent's pod has not got the rendered Secret yet.
        vol.write(agent === 'research-agent' ? { ...payloadOf(agent, ns), OPENAI_API_KEY: `sk-proj-OLD${'o'.repeat(45)}` } : payloadOf(agent, ns))
        volumes.set(agent, vol)
        const keys = await openKeys({ path: vol.dir, env: {}, persistent: false })
        stores.push(keys)
        const port = (await keys.serveStatus({ port: 0, host: kube.podIP })).port
        text = text.replace(`name: ${agent}\n`, `name: ${agent}\n    status_port: ${port}\n`)
        const labels = { app: agent }
        await must(['create', '-f', '-'], [
            { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: agent, namespace: ns }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: agent, image: 'registry.invalid/agent:1' }] } } } },
            { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${agent}-0`, namespace: ns, labels }, spec: { containers: [{ name: agent, image: 'registry.invalid/agent:1' }] } },
        ].map((d) => stringify(d)).join('---\n'))
        await kube.setPodStatus(ns, `${agent}-0`)
    }
    writeFileSync(join(repo, 'environments', 'dev', 'deployment.yaml'), text)
}, 300_000)
afterAll(async () => {
    for (const s of stores) await s.close()
    await kube?.stop()
    cleanupTemp()
}, 60_000)

describe('keyfleet rollout status against a real kube-apiserver', () => {
    it('reads every pod through the pod proxy: current, behind, and the host without status_url unknown', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        const r = await rollout(kube.kubeconfig, '--json')
        expect(r.code, r.stderr).toBe(1)
        const report = JSON.parse(r.stdout) as { agents: { agent: string; state: string; reason?: string; observed: { where: string }[] }[] }
        const state = Object.fromEntries(report.agents.map((a) => [a.agent, a.state]))
        expect(state).toEqual({ 'support-bot': 'current', 'research-agent': 'behind', 'batch-summarizer': 'current', 'alice-laptop': 'unknown' })
        expect(report.agents.find((a) => a.agent === 'support-bot')?.observed.map((o) => o.where)).toEqual(['support-bot-0'])
    }, 120_000)

    it('with exactly the documented keyfleet-rollout Role it works; without pods/proxy every pod is unknown, Forbidden', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        const ci = await kube.kubeconfigFor({ serviceAccount: 'keyfleet-ci', namespace: 'keyfleet-ci' })
        const role = documentedRole()
        await grant(role)
        const ok = await rollout(ci.path, '--json')
        expect((JSON.parse(ok.stdout) as { counts: Record<string, number> }).counts).toEqual({ current: 2, behind: 1, unknown: 1 })
        await grant({ ...role, rules: role.rules.filter((rule) => !rule.resources.includes('pods/proxy')) })
        const denied = await rollout(ci.path)
        expect(denied.stdout).toMatch(/support-bot +kubernetes +unknown .*Forbidden/)
        expect(denied.stdout).toContain('0/4 agents serve the last render')
        await grant(role)
    }, 180_000)

    it('--wait ends with every kubernetes pod current once the stale volume is swapped', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        volumes.get('research-agent')?.write(payloadOf('research-agent', 'agents-dev'))
        const r = await rollout(kube.kubeconfig, '--wait', '--timeout', '30s', '--json')
        const report = JSON.parse(r.stdout) as { counts: Record<string, number> }
        // The bundle host has no status_url: still unknown, so the wait ends at the timeout with exit 1.
        expect(r.code).toBe(1)
        expect(report.counts).toEqual({ current: 3, behind: 0, unknown: 1 })
    }, 180_000)

    it('the deploy workflow\'s rollout step (the committed action bundle) waits, then shows the table and chart in the summary and warns', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        const sb = makeSandbox()
        try {
            writeFileSync(join(sb.workspace, 'environments', 'dev', 'deployment.yaml'), readFileSync(join(repo, 'environments', 'dev', 'deployment.yaml')))
            const PATH = [dirname(kube.kubectlPath), dirname(sopsPath()), process.env.PATH ?? ''].join(delimiter)
            const render = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKeyText('dev'), 'out-dir': join(sb.base, 'render') }, { PATH })
            expect(render.code, render.stdout).toBe(0)
            const r = await runAction(sb, { command: 'rollout', environment: 'dev', kubeconfig: readFileSync(kube.kubeconfig, 'utf8'), agents: render.outputs.agents ?? '', timeout: '5s' }, { PATH })
            expect(r.code, r.stdout + r.stderr).toBe(0)
            expect(r.outputs.complete).toBe('false')
            expect(JSON.parse(r.outputs.rollout ?? '{}')).toEqual({ current: 3, behind: 0, unknown: 1 })
            expect(r.summary).toContain('| support-bot | kubernetes | current |')
            expect(r.summary).toContain('pie showData title Rollout of dev')
            expect(r.stdout).toContain('::warning title=keyfleet rollout incomplete::dev: 3/4 agents serve the last render')
        } finally {
            rmSync(sb.base, { recursive: true, force: true })
        }
    }, 180_000)
})
