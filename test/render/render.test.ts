import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { Secret } from 'kubernetes-models/v1/Secret'
import { PodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec'
import { parse as parseYaml, stringify } from 'yaml'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateIdentity, open } from '../../src/age/index.js'
import { loadCatalog, type Catalog } from '../../src/catalog/index.js'
import { isKeyfleetError } from '../../src/errors.js'
import { generationId, parseDeployment, renderEnvironment, type Deployment, type RenderOutput } from '../../src/render/index.js'
import { repoRoot, toolPath } from '../helpers/tools.js'

let catalog: Catalog
const hosts: { identity: string; recipient: string }[] = []
beforeAll(async () => {
    catalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))
    for (let i = 0; i < 3; i++) hosts.push(await generateIdentity())
})

/** Every canonical name the generated deployments may ask for, with a distinct value each. */
const VALUES = new Map<string, string>([
    ['ANTHROPIC_API_KEY', 'sk-ant-api03-' + 'A'.repeat(40)],
    ['OPENAI_API_KEY', 'sk-proj-' + 'B'.repeat(40)],
    ['OPENAI_API_KEY_2', 'sk-proj-' + 'C'.repeat(40)],
    ['GEMINI_API_KEY', 'AIza' + 'D'.repeat(35)],
    ['FIREWORKS_API_KEY', 'fw_' + 'E'.repeat(24)],
    ['DEEPINFRA_API_KEY', 'F'.repeat(32)],
    ['AGENT_GATEWAY_TOKEN', 'gw_' + 'G'.repeat(30)],
])
/** How a deployment.yaml may spell each name: canonical, alias or service. */
const SPELLINGS: Record<string, string[]> = {
    ANTHROPIC_API_KEY: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY', 'claude'],
    OPENAI_API_KEY: ['OPENAI_API_KEY', 'openai'],
    OPENAI_API_KEY_2: ['OPENAI_API_KEY_2'],
    GEMINI_API_KEY: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'gemini'],
    FIREWORKS_API_KEY: ['FIREWORKS_API_KEY', 'fireworks'],
    DEEPINFRA_API_KEY: ['DEEPINFRA_API_KEY', 'DEEPINFRA_TOKEN', 'deepinfra'],
    AGENT_GATEWAY_TOKEN: ['AGENT_GATEWAY_TOKEN', 'gateway'],
}
const NAMES = Object.keys(SPELLINGS)

/** One generated agent: its target, where it runs, which host identity (bundles) and which keys, spelled how. */
interface GenAgent { target: 'kubernetes' | 'bundle'; cloud: string; namespace: string; host: number; keys: string[]; spelling: number }

const agentArb: fc.Arbitrary<GenAgent> = fc.record({
    target: fc.constantFrom<GenAgent['target']>('kubernetes', 'kubernetes', 'bundle'),
    cloud: fc.constantFrom('aws', 'azure', 'gcp', 'onprem', 'local'),
    namespace: fc.constantFrom('agents', 'batch', 'ml-prod'),
    host: fc.nat(2),
    keys: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: NAMES.length }),
    spelling: fc.nat(2),
})
const deploymentArb = fc.array(agentArb, { minLength: 1, maxLength: 6 })

/** Writes generated agents as deployment.yaml text and parses it, exactly as the CLI would. */
const deploymentOf = (agents: GenAgent[]): Deployment => {
    const doc = {
        environment: 'dev',
        agents: agents.map((a, i) => ({
            name: `agent-${i}`, cloud: a.cloud, target: a.target,
            ...(a.target === 'kubernetes' ? { namespace: a.namespace } : { recipient: hosts[a.host]?.recipient }),
            keys: a.keys.map((k) => { const s = SPELLINGS[k] as string[]; return s[a.spelling % s.length] }),
        })),
    }
    const parsed = parseDeployment(stringify(doc), 'environments/dev/deployment.yaml', catalog)
    if (!parsed.deployment) throw new Error(JSON.stringify(parsed.findings))
    return parsed.deployment
}

const text = (out: RenderOutput, path: string): string => {
    const file = out.files.find((f) => f.path === path)
    if (!file) throw new Error(`no ${path} in ${out.files.map((f) => f.path).join(', ')}`)
    return typeof file.content === 'string' ? file.content : Buffer.from(file.content).toString('utf8')
}

describe('renderEnvironment', () => {
    it('gives every agent exactly its declared keys, in a schema-valid Secret or a bundle its host opens (property)', async () => {
        await fc.assert(fc.asyncProperty(deploymentArb, async (agents) => {
            const deployment = deploymentOf(agents)
            const out = await renderEnvironment({ env: 'dev', values: VALUES, deployment, catalog })
            for (const [i, a] of agents.entries()) {
                const name = `agent-${i}`
                const want = Object.fromEntries([...a.keys].sort().map((k) => [k, VALUES.get(k)]))
                let got: Record<string, string>
                if (a.target === 'kubernetes') {
                    const secret = parseYaml(text(out, `${a.namespace}/secrets/${name}.yaml`)) as { data: Record<string, string>; metadata: { annotations: Record<string, string> } }
                    new Secret(secret).validate()
                    got = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
                    // The one non-secret entry names the render; everything else is exactly the agent's keys.
                    expect(JSON.parse(got['.keyfleet-generation'] ?? '')).toEqual({ environment: 'dev', agent: name, generation: out.generation[name] })
                    delete got['.keyfleet-generation']
                    expect(secret.metadata.annotations['keyfleet.dev/generation']).toBe(out.generation[name])
                    const patch = parseYaml(text(out, `${a.namespace}/patches/${name}.yaml`)) as { spec: { template: unknown } }
                    new PodTemplateSpec(patch.spec.template as never).validate()
                } else {
                    const file = out.files.find((f) => f.path === `bundles/${name}.keys.age`)
                    const host = hosts[a.host] as { identity: string; recipient: string }
                    const payload = JSON.parse(Buffer.from(await open(file?.content ?? '', [host.identity])).toString('utf8')) as { keys: Record<string, string>; generation: string; agent: string }
                    expect(payload.agent).toBe(name)
                    expect(payload.generation).toBe(out.generation[name])
                    got = payload.keys
                    // Least privilege across hosts too: no other host's identity opens this bundle.
                    for (const other of hosts.filter((h) => h !== host)) {
                        await expect(open(file?.content ?? '', [other.identity])).rejects.toMatchObject({ code: 'AGE_NO_MATCHING_IDENTITY' })
                    }
                }
                expect(got).toEqual(want)
                expect(out.generation[name]).toBe(generationId(Object.entries(want) as [string, string][]))
            }
        }), { numRuns: 40 })
    })

    it('is deterministic: two renders of the same inputs give byte-identical files, bundles aside (property)', async () => {
        await fc.assert(fc.asyncProperty(deploymentArb, async (agents) => {
            const deployment = deploymentOf(agents)
            const strip = (out: RenderOutput): [string, string | Uint8Array, number][] =>
                out.files.filter((f) => !f.path.startsWith('bundles/')).map((f) => [f.path, f.content, f.mode])
            const one = await renderEnvironment({ env: 'dev', values: VALUES, deployment, catalog })
            const two = await renderEnvironment({ env: 'dev', values: new Map([...VALUES].reverse()), deployment, catalog })
            expect(strip(two)).toEqual(strip(one))
            expect(two.generation).toEqual(one.generation)
        }), { numRuns: 25 })
    })

    it('writes the Secret for a kubernetes agent 0600, lists Secrets and patches in per-namespace kustomize Components', async () => {
        const deployment = deploymentOf([
            { target: 'kubernetes', cloud: 'aws', namespace: 'agents', host: 0, keys: ['OPENAI_API_KEY'], spelling: 0 },
            { target: 'kubernetes', cloud: 'gcp', namespace: 'batch', host: 0, keys: ['GEMINI_API_KEY'], spelling: 0 },
        ])
        const out = await renderEnvironment({ env: 'dev', values: VALUES, deployment, catalog })
        expect(out.files.map((f) => [f.path, f.mode.toString(8), f.sensitive])).toEqual([
            ['agents/kustomization.yaml', '644', false],
            ['agents/patches/agent-0.yaml', '644', false],
            ['agents/secrets/agent-0.yaml', '600', true],
            ['batch/kustomization.yaml', '644', false],
            ['batch/patches/agent-1.yaml', '644', false],
            ['batch/secrets/agent-1.yaml', '600', true],
            ['kustomization.yaml', '644', false],
            ['registry.json', '644', false],
            ['registry.md', '644', false],
        ])
        expect(parseYaml(text(out, 'agents/kustomization.yaml'))).toEqual({
            apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component',
            resources: ['secrets/agent-0.yaml'], patches: [{ path: 'patches/agent-0.yaml' }],
        })
        expect(parseYaml(text(out, 'kustomization.yaml'))).toMatchObject({ kind: 'Component', components: ['agents', 'batch'] })
        const secret = parseYaml(text(out, 'agents/secrets/agent-0.yaml')) as Record<string, unknown>
        expect(secret).toMatchObject({
            apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
            metadata: {
                name: 'keyfleet-agent-0', namespace: 'agents',
                labels: {
                    'app.kubernetes.io/name': 'agent-0', 'app.kubernetes.io/instance': 'dev-agent-0',
                    'app.kubernetes.io/part-of': 'keyfleet', 'app.kubernetes.io/managed-by': 'keyfleet',
                },
            },
        })
        const patch = parseYaml(text(out, 'agents/patches/agent-0.yaml')) as { spec: { template: { spec: Record<string, unknown> } } }
        expect(patch.spec.template.spec).toEqual({
            containers: [{
                name: 'agent-0',
                env: [{ name: 'KEYFLEET_SECRETS_PATH', value: '/var/run/keyfleet/secrets' }],
                volumeMounts: [{ name: 'keyfleet-secrets', mountPath: '/var/run/keyfleet/secrets', readOnly: true }],
            }],
            volumes: [{ name: 'keyfleet-secrets', secret: { secretName: 'keyfleet-agent-0', defaultMode: 256 } }],
        })
        expect(text(out, 'agents/patches/agent-0.yaml')).not.toContain('subPath')
    })

    it('refuses, naming agent and key only, when the environment lacks a key an agent reads', async () => {
        const deployment = deploymentOf([{ target: 'kubernetes', cloud: 'aws', namespace: 'agents', host: 0, keys: ['OPENAI_API_KEY', 'GEMINI_API_KEY'], spelling: 0 }])
        const values = new Map(VALUES)
        values.delete('GEMINI_API_KEY')
        const error = await renderEnvironment({ env: 'dev', values, deployment, catalog }).catch((e: unknown) => e)
        expect(isKeyfleetError(error) && error.code).toBe('RENDER_MISSING_KEYS')
        expect((error as Error).message).toContain('agent-0: GEMINI_API_KEY')
        expect((error as Error).message).not.toContain(VALUES.get('OPENAI_API_KEY'))
    })

    it('refuses a deployment.yaml of another environment', async () => {
        const deployment = deploymentOf([{ target: 'kubernetes', cloud: 'aws', namespace: 'agents', host: 0, keys: ['OPENAI_API_KEY'], spelling: 0 }])
        await expect(renderEnvironment({ env: 'prod', values: VALUES, deployment, catalog })).rejects.toMatchObject({ code: 'RENDER_ENV_MISMATCH' })
    })

    it('reports progress once per agent', async () => {
        const deployment = deploymentOf([0, 1, 2].map(() => ({ target: 'bundle', cloud: 'local', namespace: 'x', host: 1, keys: ['OPENAI_API_KEY'], spelling: 0 })))
        const seen: string[] = []
        await renderEnvironment({ env: 'dev', values: VALUES, deployment, catalog, onProgress: (d, t) => seen.push(`${d}/${t}`) })
        expect(seen).toEqual(['1/3', '2/3', '3/3'])
    })

    // The reference implementation (pinned by scripts/ensure-tools.sh): proves the bundle is a standard age file.
    it('bundles open with `age -d` and the host identity file', async () => {
        const ageBinary = toolPath('age')
        const deployment = deploymentOf([{ target: 'bundle', cloud: 'local', namespace: 'x', host: 2, keys: ['ANTHROPIC_API_KEY'], spelling: 1 }])
        const out = await renderEnvironment({ env: 'dev', values: VALUES, deployment, catalog })
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-age-'))
        writeFileSync(join(dir, 'id'), `${(hosts[2] as { identity: string }).identity}\n`, { mode: 0o600 })
        writeFileSync(join(dir, 'b.age'), text(out, 'bundles/agent-0.keys.age'))
        const plain = execFileSync(ageBinary, ['-d', '-i', join(dir, 'id'), join(dir, 'b.age')], { encoding: 'utf8' })
        expect(JSON.parse(plain)).toMatchObject({ keyfleet: 'bundle/v1', environment: 'dev', agent: 'agent-0', keys: { ANTHROPIC_API_KEY: VALUES.get('ANTHROPIC_API_KEY') } })
    })
})
