/**
 * The data model of `deployment.yaml` and of a render: which agents an
 * environment deploys, where, and the files a render produces.
 */
import type { Registry } from './registry.js'

/** Where an agent runs. Informational (registry, docs); every cloud accepts both targets. */
export type Cloud = 'aws' | 'azure' | 'gcp' | 'onprem' | 'local'

/** How an agent receives its keys: a mounted Kubernetes Secret or an age-encrypted bundle file. */
export type Target = 'kubernetes' | 'bundle'

/** Every accepted {@link Cloud}, in documentation order. */
export const CLOUDS: readonly Cloud[] = ['aws', 'azure', 'gcp', 'onprem', 'local']

/** Every accepted {@link Target}. */
export const TARGETS: readonly Target[] = ['kubernetes', 'bundle']

/** Where the Secret volume is mounted when `mountPath` is not given. */
export const DEFAULT_MOUNT_PATH = '/var/run/keyfleet/secrets'

/** The port `keyfleet rollout status` reads an agent's status on when `status_port` is not given (docs/rotation.md). */
export const DEFAULT_STATUS_PORT = 9469

/** One agent of `deployment.yaml`, validated and with its keys resolved to canonical names. */
export interface AgentSpec {
    /** RFC 1123 label, unique within the environment; names the Secret, the bundle and the registry node. */
    readonly name: string
    readonly cloud: Cloud
    readonly target: Target
    /** Kubernetes namespace (RFC 1123 label); set exactly when `target` is `kubernetes`. */
    readonly namespace: string | undefined
    /** The host's age recipient; set exactly when `target` is `bundle`. */
    readonly recipient: string | undefined
    /** Canonical env names this agent may read, sorted and unique (aliases and services resolved). */
    readonly keys: readonly string[]
    /** The Deployment to patch (kubernetes target); defaults to `name`. */
    readonly deployment: string
    /** The container in that Deployment that gets the mount; defaults to `name`. */
    readonly container: string
    /** Absolute directory the Secret is mounted at; defaults to {@link DEFAULT_MOUNT_PATH}. */
    readonly mountPath: string
    /** Port of the agent's status server in its pods (kubernetes target), read through the API server's pod proxy. */
    readonly statusPort: number
    /** Where a host's status is read (bundle target, `status_url`); undefined: rollout status reports it unknown. */
    readonly statusUrl: string | undefined
    /** 1-based line of the agent's entry in deployment.yaml. */
    readonly line: number
    /** The agent's region (one the environment declares under `regions:`), or undefined for a global agent. */
    readonly region?: string | undefined
    /**
     * `weights:`: pool member (canonical name, one of `keys`) to a positive weight, for the
     * loader's selection; delivered as non-secret config in `.keyfleet-generation` / the bundle.
     */
    readonly weights?: Readonly<Record<string, number>> | undefined
}

/** What an agent in a region gets for a key the region has no variant of: `global` (the global key) or `none` (an error). */
export type RegionFallback = 'global' | 'none'

/** One region an environment declares. */
export interface RegionSpec {
    /** Lowercase, `-`-separated, e.g. `eu` or `us-east-1`; its variants are stored as `NAME__EU`. */
    readonly name: string
    /** Regional provider endpoints: service to https base URL, delivered to the region's agents as `<NAME>_BASE_URL`. */
    readonly baseUrls: Readonly<Record<string, string>>
}

/** A parsed, valid `environments/<env>/deployment.yaml`. */
export interface Deployment {
    /** The `environment:` field: must name the directory the file lives in. */
    readonly environment: string
    /** Agents in file order. */
    readonly agents: readonly AgentSpec[]
    /** Declared regions in file order; empty or absent when the environment has none. */
    readonly regions?: readonly RegionSpec[]
    /** `fallback:`; `none` (also when absent) unless the file says `global`. */
    readonly fallback?: RegionFallback
    /** The path the file was read from, as given to `parseDeployment`. */
    readonly file: string
}

/** One file of a render, relative to the output directory. */
export interface RenderedFile {
    /** Relative path with forward slashes, e.g. `agents-dev/support-bot.secret.yaml`. */
    readonly path: string
    readonly content: string | Uint8Array
    /** Permission bits the file is created with (0o600 for plaintext secrets). */
    readonly mode: number
    /** True when the content holds secret values in plaintext (Secret manifests). */
    readonly sensitive: boolean
}

/** Everything a render produces; pure data until {@link writeRenderOutput} puts it on disk. */
export interface RenderOutput {
    readonly environment: string
    /** Files in a stable order (sorted by path). */
    readonly files: readonly RenderedFile[]
    /** Generation id per agent name (see docs/render.md: how it is computed and why it may be published). */
    readonly generation: Readonly<Record<string, string>>
    /** The agent/key registry of the environment (names only). */
    readonly registry: Registry
}
