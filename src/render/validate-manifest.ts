/**
 * Offline schema validation of every rendered manifest against the
 * Kubernetes OpenAPI schema shipped in kubernetes-models 4.5.x (Kubernetes
 * 1.33 API; see docs/render.md). Runs at render time so that CI never
 * publishes a manifest the API server would reject.
 */
import { Secret } from 'kubernetes-models/v1/Secret'
import { PodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec'
import { KeyfleetError } from '../errors.js'
import type { Json } from './yaml-emit.js'

interface AjvLikeError { instancePath?: string; keyword?: string; message?: string }

// ajv messages name the path and the rule, never the offending value; keep only those parts anyway.
const describe = (cause: unknown): string => {
    const errors = (cause as { errors?: AjvLikeError[] } | undefined)?.errors
    if (Array.isArray(errors) && errors.length > 0) {
        return errors.slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword ?? 'is invalid'}`).join('; ')
    }
    return 'does not match the schema'
}

const fail = (what: string, cause: unknown): never => {
    throw new KeyfleetError('RENDER_INVALID_MANIFEST', `${what} does not match the Kubernetes schema: ${describe(cause)}. This is a keyfleet bug or an unsupported deployment.yaml value; report it`, { cause: describe(cause) })
}

/**
 * Validates a rendered Secret.
 * @throws KeyfleetError `RENDER_INVALID_MANIFEST` naming the schema path that failed (never a value).
 */
export const validateSecret = (manifest: { [key: string]: Json }, what: string): void => {
    try {
        new Secret(manifest).validate()
    } catch (cause) {
        fail(what, cause)
    }
}

/**
 * Validates a Deployment strategic-merge patch. A patch is a partial
 * Deployment (no selector), so the full Deployment schema does not apply; the
 * part that reaches the cluster unchanged, the pod template, is validated in
 * full, and the identifying fields are checked by hand.
 * @throws KeyfleetError `RENDER_INVALID_MANIFEST`
 */
export const validateDeploymentPatch = (patch: { [key: string]: Json }, what: string): void => {
    const metadata = patch.metadata as { name?: unknown; namespace?: unknown } | undefined
    if (patch.apiVersion !== 'apps/v1' || patch.kind !== 'Deployment' || typeof metadata?.name !== 'string' || typeof metadata.namespace !== 'string') {
        fail(what, { errors: [{ instancePath: '/metadata', message: 'must name an apps/v1 Deployment and its namespace' }] })
    }
    const template = (patch.spec as { template?: Json } | undefined)?.template
    try {
        new PodTemplateSpec(template as never).validate()
    } catch (cause) {
        fail(what, cause)
    }
}
