/*
 * docs/render.md's two ways to apply a render, run as written against a
 * real kube-apiserver v1.33.13 (test/helpers/kube.ts) with the pinned kubectl:
 * `kubectl apply --server-side --field-manager=keyfleet -k <overlay>` (the
 * render included as a kustomize Component), and, without kustomize,
 * `kubectl apply --server-side ... -f DIR/agents-dev/secrets/` plus
 * `kubectl -n agents-dev patch deployment support-bot --patch-file ...`.
 * Either way the Secrets hold the values plain `sops decrypt` gives, carry no
 * last-applied-configuration copy, and the Deployments get the volume, the
 * mount and KEYFLEET_SECRETS_PATH merged into their own container.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeDemoRepo, keyfleet } from '../helpers/cli.js'
import { requireKubeTools, startKube, type Kube } from '../helpers/kube.js'
import { sopsPath } from '../helpers/tools.js'

let kube: Kube | undefined
let repo = ''
let decrypted: Record<string, string> = {}
const NAMESPACES = ['agents-dev', 'batch-dev']
const DEPLOYMENTS: [string, string][] = [['agents-dev', 'support-bot'], ['agents-dev', 'research-agent'], ['batch-dev', 'batch-summarizer']]

const base = (ns: string, name: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${ns} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: ${name}
          image: registry.invalid/${name}:1
          env: [{ name: LOG_LEVEL, value: info }]
`

const must = async (args: string[]): Promise<string> => {
    const r = await (kube as Kube).kubectl(args)
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
}

/** Clean namespaces holding only the user's own Deployments. */
const fresh = async (): Promise<void> => {
    for (const ns of NAMESPACES) await must(['delete', 'secrets,deployments', '--all', '-n', ns])
    mkdirSync(join(repo, 'deploy', 'base'), { recursive: true })
    writeFileSync(join(repo, 'deploy', 'base', 'deployments.yaml'), DEPLOYMENTS.map(([ns, n]) => base(ns, n)).join('---\n'))
    writeFileSync(join(repo, 'deploy', 'base', 'kustomization.yaml'), 'resources: [deployments.yaml]\n')
    await must(['create', '-f', join(repo, 'deploy', 'base', 'deployments.yaml')])
}

interface Secret { metadata: { name: string; annotations?: Record<string, string>; managedFields?: { manager: string }[] }; data: Record<string, string> }
interface Deployment { metadata: { annotations?: Record<string, string> }; spec: { template: { spec: { containers: { name: string; env?: { name: string; value: string }[]; volumeMounts?: unknown[] }[]; volumes?: unknown[] } } } }

const expectApplied = async (): Promise<void> => {
    const secrets = (await Promise.all(NAMESPACES.map(async (ns) => (JSON.parse(await must(['get', 'secrets', '-n', ns, '-o', 'json', '--show-managed-fields'])) as { items: Secret[] }).items))).flat()
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual(['keyfleet-batch-summarizer', 'keyfleet-research-agent', 'keyfleet-support-bot'])
    for (const s of secrets) {
        expect(s.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], s.metadata.name).toBeUndefined()
        expect(s.metadata.managedFields?.map((f) => f.manager)).toEqual(['keyfleet'])
        for (const [k, v] of Object.entries(s.data)) if (k !== '.keyfleet-generation') expect(Buffer.from(v, 'base64').toString('utf8'), `${s.metadata.name} ${k}`).toBe(decrypted[k])
    }
    for (const [ns, name] of DEPLOYMENTS) {
        const d = JSON.parse(await must(['get', 'deployment', name, '-n', ns, '-o', 'json'])) as Deployment
        expect(d.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], name).toBeUndefined()
        const pod = d.spec.template.spec
        expect(pod.containers.map((c) => c.name), name).toEqual([name])
        expect(pod.containers[0]?.env).toEqual(expect.arrayContaining([{ name: 'LOG_LEVEL', value: 'info' }, { name: 'KEYFLEET_SECRETS_PATH', value: '/var/run/keyfleet/secrets' }]))
        expect(pod.containers[0]?.volumeMounts).toEqual([{ name: 'keyfleet-secrets', mountPath: '/var/run/keyfleet/secrets', readOnly: true }])
        expect(pod.volumes).toEqual([{ name: 'keyfleet-secrets', secret: { secretName: `keyfleet-${name}`, defaultMode: 256 } }])
    }
}

beforeAll(async () => {
    const tools = await requireKubeTools('test/action/render-kube.test.ts')
    if (tools === undefined) return
    kube = await startKube(tools)
    for (const ns of NAMESPACES) await kube.namespace(ns)
    repo = makeDemoRepo()
    const keyFile = join(repo, 'examples', 'demo-keys', 'dev.agekey')
    const r = await keyfleet(['render', 'dev', '--out', join(repo, '.keyfleet', 'dev')], { cwd: repo, env: { SOPS_AGE_KEY_FILE: keyFile } })
    expect(r.code, r.stderr).toBe(0)
    decrypted = JSON.parse(execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'json', 'environments/dev/env.secrets'], {
        cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', SOPS_AGE_KEY_FILE: keyFile },
    })) as Record<string, string>
}, 300_000)
afterAll(async () => {
    await kube?.stop()
    if (repo !== '') rmSync(repo, { recursive: true, force: true })
}, 60_000)

describe('docs/render.md against a real kube-apiserver', () => {
    it('kubectl apply --server-side --field-manager=keyfleet -k deploy/dev (the render as a Component)', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        await fresh()
        mkdirSync(join(repo, 'deploy', 'dev'), { recursive: true })
        writeFileSync(join(repo, 'deploy', 'dev', 'kustomization.yaml'), 'resources:\n  - ../base\ncomponents:\n  - ../../.keyfleet/dev\n')
        const r = await kube.kubectl(['apply', '--server-side', '--field-manager=keyfleet', '-k', join(repo, 'deploy', 'dev')])
        expect(r.code, r.stderr).toBe(0)
        await expectApplied()
    }, 120_000)

    it('without kustomize: apply the secrets/ directory server-side, then kubectl patch each Deployment', async (ctx) => {
        if (kube === undefined) { ctx.skip(); return }
        await fresh()
        const dir = join(repo, '.keyfleet', 'dev')
        for (const ns of NAMESPACES) {
            const r = await kube.kubectl(['apply', '--server-side', '--field-manager=keyfleet', '-f', join(dir, ns, 'secrets/')])
            expect(r.code, r.stderr).toBe(0)
        }
        for (const [ns, name] of DEPLOYMENTS) {
            const r = await kube.kubectl(['-n', ns, 'patch', 'deployment', name, '--patch-file', join(dir, ns, 'patches', `${name}.yaml`)])
            expect(r.code, r.stderr).toBe(0)
        }
        await expectApplied()
        // Patching again changes nothing (the merge is by name, not an append).
        const again = await kube.kubectl(['-n', 'agents-dev', 'patch', 'deployment', 'support-bot', '--patch-file', join(dir, 'agents-dev', 'patches', 'support-bot.yaml')])
        expect(again.stdout).toContain('no change')
        await expectApplied()
    }, 120_000)
})
