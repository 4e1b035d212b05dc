/** Rendering: deployment.yaml + a decrypted environment → Kubernetes manifests, age bundles and the agent/key registry. */
export { parseDeployment, DNS_LABEL, type ParsedDeployment } from './deployment.js'
export { DEPLOYMENT_CODES, type DeploymentCode } from './codes.js'
export { renderEnvironment, SENSITIVE_MODE, PUBLIC_MODE, type RenderInput } from './render.js'
export { writeRenderOutput, RENDER_MANIFEST } from './write.js'
export { buildRegistry, agentsAffectedBy, type Registry, type RegistryAgent, type RegistryKey } from './registry.js'
export { registryText, registryJson, registryMarkdown, registryMermaid } from './registry-format.js'
export { generationId } from './generation.js'
export { storedNameFor } from './regions.js'
export { BUNDLE_FORMAT, bundlePath, type BundlePayload } from './bundle.js'
export {
    GENERATION_ANNOTATION, GENERATION_ENTRY, SECRETS_PATH_ENV, SECRET_FILE_MODE, VOLUME_NAME, secretName,
} from './kubernetes.js'
export {
    CLOUDS, TARGETS, DEFAULT_MOUNT_PATH, DEFAULT_STATUS_PORT,
    type AgentSpec, type Cloud, type Deployment, type RenderedFile, type RenderOutput, type Target,
} from './types.js'
