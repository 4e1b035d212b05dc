/**
 * The Kubernetes half of a render: per agent a Secret holding exactly its
 * keys and a strategic-merge patch that mounts that Secret into the agent's
 * Deployment, plus kustomize Components that list them.
 */
import { GENERATION_ENTRY, generationEntry } from './generation.js'
import type { AgentSpec } from './types.js'
import type { Json } from './yaml-emit.js'

export { GENERATION_ENTRY, generationEntry }

/** Name of the pod volume the patch adds (one keyfleet agent per Deployment, so it never collides). */
export const VOLUME_NAME = 'keyfleet-secrets'
/** The env var the patch sets: where the loader finds the mounted keys. */
export const SECRETS_PATH_ENV = 'KEYFLEET_SECRETS_PATH'
/** Annotation on each Secret carrying the generation id of its key set. */
export const GENERATION_ANNOTATION = 'keyfleet.dev/generation'
/** Permission bits of each mounted key file: 0400 (JSON has no octal, so 256). */
export const SECRET_FILE_MODE = 0o400

/** The Secret's name for `agent`. */
export const secretName = (agent: string): string => `keyfleet-${agent}`

/** Path of an agent's Secret manifest inside the render directory. */
export const secretPath = (agent: AgentSpec): string => `${agent.namespace}/secrets/${agent.name}.yaml`
/** Path of an agent's Deployment patch inside the render directory. */
export const patchPath = (agent: AgentSpec): string => `${agent.namespace}/patches/${agent.name}.yaml`

/**
 * The `app.kubernetes.io/*` labels of an agent's Secret.
 * `instance` is `<env>-<agent>`; parseDeployment keeps it within 63 characters.
 */
export const secretLabels = (env: string, agent: string): Record<string, string> => ({
    'app.kubernetes.io/name': agent,
    'app.kubernetes.io/instance': `${env}-${agent}`,
    'app.kubernetes.io/part-of': 'keyfleet',
    'app.kubernetes.io/managed-by': 'keyfleet',
    'keyfleet.dev/environment': env,
})

/** The base64 form of a value, as Secret `data` holds it. */
export const toBase64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64')

/**
 * An Opaque Secret with one `data` entry (base64) per key: the kubelet turns
 * each into a file named after the key, which the loader reads; plus the
 * {@link GENERATION_ENTRY} naming the render and carrying the agent's pool weights (no value in it).
 * @param entries - the agent's keys, sorted by name.
 * @param encode - computes {@link toBase64}; a render passes a memoised one.
 */
export const secretManifest = (
    env: string, agent: AgentSpec, entries: readonly (readonly [string, string])[], generation: string,
    encode: (value: string) => string = toBase64,
): { [key: string]: Json } => {
    const data: Record<string, string> = {}
    for (const [name, value] of entries) data[name] = encode(value)
    data[GENERATION_ENTRY] = toBase64(generationEntry(env, agent.name, generation, agent.weights))
    return {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
            name: secretName(agent.name),
            namespace: agent.namespace as string,
            labels: secretLabels(env, agent.name),
            annotations: { [GENERATION_ANNOTATION]: generation },
        },
        type: 'Opaque',
        data,
    }
}

/**
 * A strategic-merge patch for the agent's Deployment: a read-only Secret
 * volume (mode 0400, never `subPath`, which would freeze the keys at pod
 * start) and `KEYFLEET_SECRETS_PATH`. It deliberately adds no pod-template
 * annotation: a rotation must reach running pods through the volume, not by a
 * rollout.
 */
export const deploymentPatch = (agent: AgentSpec): { [key: string]: Json } => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: agent.deployment, namespace: agent.namespace as string },
    spec: {
        template: {
            spec: {
                containers: [{
                    name: agent.container,
                    env: [{ name: SECRETS_PATH_ENV, value: agent.mountPath }],
                    volumeMounts: [{ name: VOLUME_NAME, mountPath: agent.mountPath, readOnly: true }],
                }],
                volumes: [{ name: VOLUME_NAME, secret: { secretName: secretName(agent.name), defaultMode: SECRET_FILE_MODE } }],
            },
        },
    },
})

/**
 * The kustomize Component of one namespace: its Secrets as resources and its
 * patches. A Component (not a Kustomization) because the patches target
 * Deployments that live in the user's own kustomization.
 */
export const namespaceComponent = (agents: readonly AgentSpec[]): { [key: string]: Json } => {
    const sorted = [...agents].sort((a, b) => (a.name < b.name ? -1 : 1))
    return {
        apiVersion: 'kustomize.config.k8s.io/v1alpha1',
        kind: 'Component',
        resources: sorted.map((a) => `secrets/${a.name}.yaml`),
        patches: sorted.map((a) => ({ path: `patches/${a.name}.yaml` })),
    }
}

/** The environment's top-level Component: every namespace Component. */
export const environmentComponent = (namespaces: readonly string[]): { [key: string]: Json } => ({
    apiVersion: 'kustomize.config.k8s.io/v1alpha1',
    kind: 'Component',
    components: [...namespaces].sort(),
})
