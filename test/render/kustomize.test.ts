import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import { builtinCatalog } from '../../src/catalog/index.js'
import { parseDeployment, renderEnvironment, writeRenderOutput } from '../../src/render/index.js'

// kustomize itself (as `kubectl kustomize`), when installed: proves the Components and patches build.
const kubectl = (() => { try { return execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim() } catch { return '' } })()

const base = (name: string, namespace: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: ${name}
          image: registry.example/${name}:1
          env: [{ name: LOG_LEVEL, value: info }]
`

describe.runIf(kubectl !== '')('kustomize', () => {
    it('builds a user overlay that includes the render as a Component: Secrets added, Deployments patched', async () => {
        const yaml = `environment: dev
agents:
  - { name: support-bot, cloud: aws, target: kubernetes, namespace: agents, keys: [claude] }
  - { name: batch, cloud: gcp, target: kubernetes, namespace: jobs, keys: [openai], deployment: batch-worker, container: worker, mountPath: /etc/keys }
`
        const parsed = parseDeployment(yaml, 'deployment.yaml', builtinCatalog)
        if (!parsed.deployment) throw new Error(JSON.stringify(parsed.findings))
        const values = new Map([['ANTHROPIC_API_KEY', 'sk-ant-api03-x'], ['OPENAI_API_KEY', 'sk-proj-y']])
        const root = mkdtempSync(join(tmpdir(), 'keyfleet-kustomize-'))
        await writeRenderOutput(await renderEnvironment({ env: 'dev', values, deployment: parsed.deployment, catalog: builtinCatalog }), join(root, 'render'))
        mkdirSync(join(root, 'base'))
        mkdirSync(join(root, 'overlay'))
        writeFileSync(join(root, 'base', 'a.yaml'), base('support-bot', 'agents'))
        writeFileSync(join(root, 'base', 'b.yaml'), base('batch-worker', 'jobs').replace('- name: batch-worker\n', '- name: worker\n'))
        writeFileSync(join(root, 'base', 'kustomization.yaml'), 'resources: [a.yaml, b.yaml]\n')
        writeFileSync(join(root, 'overlay', 'kustomization.yaml'), 'resources: [../base]\ncomponents: [../render]\n')

        const built = execFileSync(kubectl, ['kustomize', join(root, 'overlay')], { encoding: 'utf8' })
        const docs = parseAllDocuments(built).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: { template: { spec: { containers: { name: string; image: string; env: unknown[]; volumeMounts?: unknown[] }[]; volumes?: unknown[] } } } })
        expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
            'Deployment/batch-worker', 'Deployment/support-bot', 'Secret/keyfleet-batch', 'Secret/keyfleet-support-bot',
        ])
        const worker = docs.find((d) => d.metadata.name === 'batch-worker')?.spec?.template.spec
        expect(worker?.containers).toHaveLength(1)
        expect(worker?.containers[0]).toMatchObject({
            name: 'worker', image: 'registry.example/batch-worker:1',
            volumeMounts: [{ name: 'keyfleet-secrets', mountPath: '/etc/keys', readOnly: true }],
        })
        expect(worker?.containers[0]?.env).toEqual(expect.arrayContaining([{ name: 'LOG_LEVEL', value: 'info' }, { name: 'KEYFLEET_SECRETS_PATH', value: '/etc/keys' }]))
        expect(worker?.volumes).toEqual([{ name: 'keyfleet-secrets', secret: { secretName: 'keyfleet-batch', defaultMode: 256 } }])
    })
})
