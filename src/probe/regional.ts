/**
 * Where the live probe sends a regional variant (`OPENAI_API_KEY__EU`): the
 * region's base URL from deployment.yaml only when the operator trusts its
 * origin. deployment.yaml is in the repository, so a pull request can set a
 * region's `base_urls` to any https host; a key must never follow it there.
 */
import type { SecretSpec } from '../catalog/types.js'
import { isProviderOrigin } from '../catalog/origins.js'

export { PROVIDER_REGIONAL_ORIGINS } from '../catalog/origins.js'

/** Region name → service → base URL, as deployment.yaml's `regions:` declares them. */
export type RegionBaseUrls = Readonly<Record<string, Readonly<Record<string, string>>>>

/** Where one regional variant is probed, and what the check output says about it. */
export interface RegionalTarget {
    /** The region's origin when it may receive the key (the probe keeps the catalog's path); undefined: probe the catalog's origin. */
    readonly baseUrl: string | undefined
    /** Appended to the result's detail: which endpoint was probed, or why the regional one was not. */
    readonly note: string
}

const originOf = (url: string): string | undefined => {
    try { return new URL(url).origin } catch { return undefined }
}

/**
 * Decides where a variant of `spec` for `region` is probed.
 * @param allowed - the operator's allow-list (never from the repository), as for KF124.
 * @returns undefined when the region declares no base URL for the service (nothing to say).
 */
export const regionalTarget = (spec: SecretSpec, region: string, urls: RegionBaseUrls | undefined, allowed: readonly string[]): RegionalTarget | undefined => {
    const url = urls?.[region]?.[spec.service]
    if (url === undefined || !spec.probe) return undefined
    const origin = originOf(url)
    const fallback = originOf(spec.probe.baseUrl) ?? spec.probe.baseUrl
    if (origin === undefined) return { baseUrl: undefined, note: `; region ${region}'s endpoint is not a URL, so it was not probed (probed at ${fallback})` }
    const known = isProviderOrigin(spec.service, origin)
    // The region's URL is an SDK base (`https://eu.api.openai.com/v1`); the catalog's probe path is
    // absolute (`/v1/models`), so the probe keeps its path and takes only the region's origin.
    if (known || allowed.includes(origin)) return { baseUrl: origin, note: ` (region ${region} endpoint ${origin})` }
    return {
        baseUrl: undefined,
        note: `; region ${region}'s endpoint ${origin} was not probed: it is neither a ${spec.service} provider origin nor on the allowed origins (--allowed-origins / KEYFLEET_ALLOWED_ORIGINS, kept outside the repository), so the key went to ${fallback} instead`,
    }
}
