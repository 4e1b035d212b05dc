/**
 * Where a catalog may send keys: the built-in providers' probe origins are
 * fixed here, in code; any other origin must be on an allow-list the operator
 * supplies outside the repository. Used by the PR check (KF124) and by every
 * probe (PROBE_ORIGIN_NOT_ALLOWED, before a key is sent).
 */

/**
 * The probe origin of each built-in provider, fixed in code: a catalog (which
 * a pull request can change) cannot move where a built-in provider's key is
 * sent. A test keeps it equal to the built-in catalog's base URLs.
 */
export const BUILTIN_PROBE_ORIGINS: ReadonlyMap<string, string> = new Map([
    ['claude', 'https://api.anthropic.com'],
    ['openai', 'https://api.openai.com'],
    ['gemini', 'https://generativelanguage.googleapis.com'],
    ['fireworks', 'https://api.fireworks.ai'],
    ['deepinfra', 'https://api.deepinfra.com'],
])

/**
 * Regional endpoints run by the built-in providers themselves, fixed in code
 * like {@link BUILTIN_PROBE_ORIGINS}: OpenAI's data-residency domains
 * (developers.openai.com/api/docs/guides/data-residency names us, eu, au, in
 * and jp; the openai-node SDK's `dataResidency` adds ae). A region's
 * `base_urls` may name them without the operator's allow-list (KF124), and the
 * live probe of a regional variant may send its key there.
 */
export const PROVIDER_REGIONAL_ORIGINS: ReadonlyMap<string, readonly string[]> = new Map([
    ['openai', ['us', 'eu', 'au', 'in', 'jp', 'ae'].map((r) => `https://${r}.api.openai.com`)],
])

/** Whether `origin` is run by the built-in provider of `service`: its probe origin or one of its regional ones. */
export const isProviderOrigin = (service: string, origin: string): boolean =>
    origin === BUILTIN_PROBE_ORIGINS.get(service) || (PROVIDER_REGIONAL_ORIGINS.get(service) ?? []).includes(origin)

/**
 * Why the catalog's probe URL for `service` may not receive a key, or undefined
 * when it may: a built-in provider's origin is fixed in code; any other origin
 * (a custom provider, or a built-in moved elsewhere) must be on `allowed`, a
 * list kept outside the pull request's reach (a CLI flag, a workflow input or
 * repository variable), never in the catalog.
 */
export const catalogOriginProblem = (service: string, baseUrl: string, builtin: string | undefined, allowed: readonly string[]): string | undefined => {
    let origin: string
    try { origin = new URL(baseUrl).origin } catch { return `"${baseUrl.slice(0, 80)}" is not an absolute URL` }
    if (origin === builtin || allowed.includes(origin)) return undefined
    return builtin === undefined
        ? `the probe of ${service} sends keys to ${origin}, which is not on the allowed origins; add it to --allowed-origins / KEYFLEET_ALLOWED_ORIGINS (kept outside the repository) if it is yours`
        : `the probe of built-in provider ${service} is moved from ${builtin} to ${origin}; built-in probe hosts are fixed, so remove the override (or allow ${origin} with --allowed-origins / KEYFLEET_ALLOWED_ORIGINS if it is your gateway)`
}

