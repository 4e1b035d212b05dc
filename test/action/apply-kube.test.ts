/*
 * Issue 13, finding 14, against a real kube-apiserver v1.33.13 (etcd, RBAC;
 * test/helpers/kube.ts): the deploy workflow's render + apply steps, run as
 * the runner does (the bundled action, `command: apply`, the pinned kubectl
 * first on PATH), with a ServiceAccount bound in each agents' namespace to
 * exactly the Role docs/ci-setup.md documents.
 *
 * - with that Role the Secrets arrive with the values plain `sops decrypt`
 *   gives, and every agent's pods carry the new generation, no warning;
 * - without any one of its verbs the deploy fails: no Secret (the action
 *   exits 1) or no pod refreshed (a warning, the pods keep their old
 *   annotation): the Role is the least that works;
 * - the apply is server-side: no Secret carries
 *   `kubectl.kubernetes.io/last-applied-configuration`, the field manager is
 *   `keyfleet`, and no value (raw or base64) is in any annotation or
 *   managedFields. A client-side apply of the same manifest, for contrast,
 *   does copy the values: the check can fail.
 *
 * The fake-kubectl tests (apply.test.ts) keep the argv and failure-path checks.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { parseAllDocuments, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findLeaks } from '../helpers/canary.js'
import { requireKubeTools, startKube, type Kube } from '../helpers/kube.js'
import { repoRoot, sopsPath } from '../helpers/tools.js'
import { demoKey, makeSandbox, runAction, type Sandbox } from './harness.js'

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
interface Role { apiVersion: string; kind: 'Role'; metadata: { name: string; namespace: string }; rules: Rule[] }

/** The Role of docs/ci-setup.md, exactly as documented. */
const documentedRole = (): Role => {
    const doc = readFileSync(join(repoRoot, 'docs', 'ci-setup.md'), 'utf8')
    const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.includes('name: keyfleet-deploy'))
    if (block === undefined) throw new Error('docs/ci-setup.md has no Role keyfleet-deploy')
    const role = parseAllDocuments(block).map((d) => d.toJS() as Role).find((d) => d.kind === 'Role')
    if (role === undefined) throw new Error('docs/ci-setup.md: the keyfleet-deploy block has no Role')
    return role
}

const NAMESPACES = ['agents-dev', 'batch-dev']
/** The demo dev environment's kubernetes agents: Deployment → its pods' labels (one uses a non-default label key). */
const AGENTS: Record<string, { ns: string; labels: Record<string, string>; pods: string[] }> = {
    'support-bot': { ns: 'agents-dev', labels: { app: 'support', tier: 'web' }, pods: ['support-bot-7d9f-a', 'support-bot-7d9f-b'] },
    'research-agent': { ns: 'agents-dev', labels: { 'app.kubernetes.io/name': 'research' }, pods: ['research-agent-5c4b-a'] },
    'batch-summarizer': { ns: 'batch-dev', labels: { app: 'batch' }, pods: ['batch-summarizer-0'] },
}
const GENERATION = 'keyfleet.dev/generation'

let kube: Kube | undefined
let sb: Sandbox
let renderDir = ''
let agentsOutput = ''
let ciKubeconfig = ''
let decrypted: Record<string, string> = {}

const must = async (args: string[], input?: string): Promise<string> => {
    const r = await (kube as Kube).kubectl(args, { input })
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
}

const CI_USER = 'system:serviceaccount:keyfleet-ci:keyfleet-ci'

/** `resource[.group]` → verbs, as `kubectl auth can-i --list` prints them for the CI user in `ns`. */
const canList = async (ns: string): Promise<Map<string, Set<string>>> => {
    const r = await (kube as Kube).kubectl(['auth', 'can-i', '--list', '-n', ns, `--as=${CI_USER}`])
    const out = new Map<string, Set<string>>()
    for (const line of r.stdout.split('\n').slice(1)) {
        const m = /^(\S+)\s.*\[([^\]]*)\]\s*$/.exec(line)
        if (m !== null) out.set(m[1] as string, new Set([...(out.get(m[1] as string) ?? []), ...(m[2] as string).split(' ').filter((v) => v !== '')]))
    }
    return out
}

/**
 * Waits until the API server's RBAC authorizer (fed by an informer, so a
 * change is not effective the moment it is stored) answers as `role` says
 * for every resource the documented Role names.
 */
const effective = async (role: Role): Promise<void> => {
    const key = (r: Rule, resource: string): string => (r.apiGroups[0] ?? '') === '' ? resource : `${resource}.${r.apiGroups[0] ?? ''}`
    const want = new Map<string, string>()
    for (const rule of documentedRole().rules) for (const res of rule.resources) want.set(key(rule, res), '')
    for (const rule of role.rules) for (const res of rule.resources) want.set(key(rule, res), [...rule.verbs].sort().join(' '))
    for (const ns of NAMESPACES) {
        for (let tries = 0; ; tries++) {
            const got = await canList(ns)
            if ([...want].every(([res, verbs]) => [...(got.get(res) ?? [])].sort().join(' ') === verbs)) break
            if (tries > 300) throw new Error(`RBAC in ${ns} never matched the Role: ${JSON.stringify([...want])}`)
            await new Promise((resolve) => setTimeout(resolve, 100))
        }
    }
}

/** Puts `role` (the documented one, or one with a verb removed) in every agents' namespace. */
const grant = async (role: Role): Promise<void> => {
    const docs = NAMESPACES.flatMap((ns) => [
        { ...role, metadata: { ...role.metadata, namespace: ns } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'keyfleet-deploy', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name }, subjects: [{ kind: 'ServiceAccount', name: 'keyfleet-ci', namespace: 'keyfleet-ci' }] },
    ])
    await must(['apply', '--server-side', '--field-manager=test-admin', '--force-conflicts', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'))
    await effective(role)
}

/** Removes the Secrets and the pods' generation annotations: each run starts from nothing. */
const reset = async (): Promise<void> => {
    for (const ns of NAMESPACES) await must(['delete', 'secrets', '-n', ns, '-l', 'app.kubernetes.io/managed-by=keyfleet'])
    for (const [, a] of Object.entries(AGENTS)) await must(['annotate', '-n', a.ns, ...a.pods.map((p) => `pod/${p}`), `${GENERATION}-`])
}

/** The deploy workflow's apply step as the runner runs it, the pinned kubectl first on PATH. */
const apply = async (): Promise<{ code: number | null; out: string }> => {
    const k = kube as Kube
    const r = await runAction(sb, { command: 'apply', environment: 'dev', kubeconfig: ciKubeconfig, 'out-dir': renderDir, agents: agentsOutput }, {
        PATH: [dirname(k.kubectlPath), dirname(sopsPath()), process.env.PATH ?? ''].join(delimiter),
    })
    return { code: r.code, out: r.stdout + r.stderr }
}

interface Secret { metadata: { name: string; annotations?: Record<string, string>; managedFields?: { manager: string; operation: string }[] }; data: Record<string, string> }
const secrets = async (ns: string): Promise<Secret[]> =>
    (JSON.parse(await must(['get', 'secrets', '-n', ns, '-l', 'app.kubernetes.io/managed-by=keyfleet', '-o', 'json', '--show-managed-fields'])) as { items: Secret[] }).items
const podGenerations = async (): Promise<Record<string, string | undefined>> => {
    const out: Record<string, string | undefined> = {}
    for (const [, a] of Object.entries(AGENTS)) {
        for (const p of a.pods) out[p] = (JSON.parse(await must(['get', 'pod', p, '-n', a.ns, '-o', 'json'])) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.[GENERATION]
    }
    return out
}
const generations = (): Record<string, string> => Object.fromEntries((JSON.parse(agentsOutput) as { name: string; generation: string | null }[]).map((a) => [a.name, a.generation ?? '']))

beforeAll(async () => {
    const tools = await requireKubeTools('test/action/apply-kube.test.ts')
    if (tools === undefined) return
    kube = await startKube(tools)
    for (const ns of [...NAMESPACES, 'keyfleet-ci']) await kube.namespace(ns)
    for (const [name, a] of Object.entries(AGENTS)) {
        const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: a.ns }, spec: { replicas: a.pods.length, selector: { matchLabels: a.labels }, template: { metadata: { labels: a.labels }, spec: { containers: [{ name, image: 'registry.invalid/agent:1' }] } } } }
        const pods = a.pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p, namespace: a.ns, labels: a.labels }, spec: { containers: [{ name, image: 'registry.invalid/agent:1' }] } }))
        await must(['create', '-f', '-'], [deployment, ...pods].map((d) => stringify(d)).join('---\n'))
    }
    // A pod of another app in the same namespace: never annotated.
    await must(['create', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other-0', namespace: 'agents-dev', labels: { app: 'other' } }, spec: { containers: [{ name: 'x', image: 'registry.invalid/x:1' }] } }))
    ciKubeconfig = (await kube.kubeconfigFor({ serviceAccount: 'keyfleet-ci', namespace: 'keyfleet-ci' })).text

    sb = makeSandbox()
    renderDir = join(sb.base, 'step-temp', 'keyfleet-apply', 'render')
    const rendered = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'out-dir': renderDir }, { PATH: [dirname(sopsPath()), process.env.PATH ?? ''].join(delimiter) })
    expect(rendered.code, rendered.stdout).toBe(0)
    agentsOutput = rendered.outputs.agents ?? ''
    // The oracle for the values: plain sops.
    decrypted = JSON.parse(execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'json', 'environments/dev/env.secrets'], {
        cwd: sb.workspace, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', SOPS_AGE_KEY: demoKey('dev') },
    })) as Record<string, string>
}, 300_000)
afterAll(async () => {
    await kube?.stop()
    if (renderDir !== '') rmSync(sb.base, { recursive: true, force: true })
}, 60_000)

describe('the deploy path against a real kube-apiserver, with the Role of docs/ci-setup.md', () => {
    it('applies every Secret with the values sops decrypts and refreshes every agent\'s pods, no warning', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        await grant(documentedRole())
        await reset()
        const run = await apply()
        expect(run.code, run.out).toBe(0)
        expect(run.out).not.toContain('::warning')
        const byName = new Map<string, Secret>()
        for (const ns of NAMESPACES) for (const s of await secrets(ns)) byName.set(`${ns}/${s.metadata.name}`, s)
        expect([...byName.keys()].sort()).toEqual(['agents-dev/keyfleet-research-agent', 'agents-dev/keyfleet-support-bot', 'batch-dev/keyfleet-batch-summarizer'])
        // The keys, and (issue 17) the one non-secret entry naming the render.
        const values = (s: Secret | undefined): Record<string, string> => Object.fromEntries(Object.entries(s?.data ?? {}).filter(([k]) => k !== '.keyfleet-generation').map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
        expect(values(byName.get('agents-dev/keyfleet-support-bot'))).toEqual({ ANTHROPIC_API_KEY: decrypted.ANTHROPIC_API_KEY, OPENAI_API_KEY: decrypted.OPENAI_API_KEY })
        expect(values(byName.get('agents-dev/keyfleet-research-agent'))).toEqual({ OPENAI_API_KEY: decrypted.OPENAI_API_KEY })
        expect(values(byName.get('batch-dev/keyfleet-batch-summarizer'))).toEqual({ ANTHROPIC_API_KEY: decrypted.ANTHROPIC_API_KEY })

        const gen = generations()
        for (const [ns, agent] of [['agents-dev', 'support-bot'], ['agents-dev', 'research-agent'], ['batch-dev', 'batch-summarizer']] as const) {
            const entry = byName.get(`${ns}/keyfleet-${agent}`)?.data['.keyfleet-generation'] ?? ''
            expect(JSON.parse(Buffer.from(entry, 'base64').toString('utf8'))).toEqual({ environment: 'dev', agent, generation: gen[agent] })
        }
        expect(await podGenerations()).toEqual({
            'support-bot-7d9f-a': gen['support-bot'], 'support-bot-7d9f-b': gen['support-bot'],
            'research-agent-5c4b-a': gen['research-agent'], 'batch-summarizer-0': gen['batch-summarizer'],
        })
        expect(gen['support-bot']).toMatch(/^[0-9a-f]{16}$/)
        const other = JSON.parse(await must(['get', 'pod', 'other-0', '-n', 'agents-dev', '-o', 'json'])) as { metadata: { annotations?: Record<string, string> } }
        expect(other.metadata.annotations?.[GENERATION]).toBeUndefined()
    }, 180_000)

    it('is the least that works: without any one of its verbs no Secret arrives or no pod is refreshed', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        const role = documentedRole()
        const cases = role.rules.flatMap((rule, i) => rule.verbs.map((verb) => ({ i, verb, what: `${rule.resources.join(',')} ${verb}` })))
        expect(cases.length).toBeGreaterThan(0)
        const outcomes: string[] = []
        for (const { i, verb, what } of cases) {
            const reduced: Role = { ...role, rules: role.rules.map((r, j) => (j === i ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r)).filter((r) => r.verbs.length > 0) }
            await grant(reduced)
            await reset()
            const run = await apply()
            const applied = (await Promise.all(NAMESPACES.map(secrets))).flat().length
            const refreshed = Object.values(await podGenerations()).filter((g) => g !== undefined).length
            outcomes.push(`without ${what}: exit ${String(run.code)}, ${applied} Secrets, ${refreshed} pods refreshed`)
            const broken = (run.code === 1 && run.out.includes('ACTION_KUBECTL_FAILED') && applied < 3)
                || (run.code === 0 && applied === 3 && refreshed < 4 && run.out.includes('::warning title=keyfleet pods not refreshed::'))
            // The finding's symptom: annotate reads the pod first.
            if (what === 'pods get') expect(run.out).toContain('cannot get resource "pods"')
            expect(broken, `without ${what} the deploy still worked:\n${run.out.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')}`).toBe(true)
        }
        console.log(`the documented Role, one verb removed at a time:\n${outcomes.join('\n')}`)
        await grant(role)
    }, 600_000)

    it('is server-side: no last-applied-configuration, field manager keyfleet, no value in any annotation or managedFields', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        await grant(documentedRole())
        await reset()
        // Twice: a second apply over existing Secrets must not add a copy either.
        for (let i = 0; i < 2; i++) expect((await apply()).code).toBe(0)
        const all = (await Promise.all(NAMESPACES.map(secrets))).flat()
        expect(all).toHaveLength(3)
        for (const s of all) {
            expect(s.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], s.metadata.name).toBeUndefined()
            expect(s.metadata.managedFields?.map((f) => `${f.manager}/${f.operation}`)).toEqual(['keyfleet/Apply'])
            const meta = JSON.stringify({ annotations: s.metadata.annotations, managedFields: s.metadata.managedFields })
            for (const [k, b64] of Object.entries(s.data)) {
                expect(meta, `${s.metadata.name} ${k}`).not.toContain(b64)
                expect(findLeaks(Buffer.from(b64, 'base64').toString('utf8'), { metadata: meta })).toEqual([])
            }
        }
    }, 180_000)

    it('(contrast) a client-side kubectl apply of the same manifest copies its base64 values into the annotation', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        const file = join(renderDir, 'agents-dev', 'secrets', 'research-agent.yaml')
        const manifest = readFileSync(file, 'utf8').replace('name: keyfleet-research-agent', 'name: client-side-copy')
        const copy = join(sb.base, 'client-side.yaml')
        writeFileSync(copy, manifest, { mode: 0o600 })
        await must(['apply', '-f', copy])
        const s = JSON.parse(await must(['get', 'secret', 'client-side-copy', '-n', 'agents-dev', '-o', 'json'])) as Secret
        const b64 = s.data.OPENAI_API_KEY as string
        expect(s.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain(b64)
        await must(['delete', 'secret', 'client-side-copy', '-n', 'agents-dev'])
    }, 120_000)
})
