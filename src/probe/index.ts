/**
 * Live key checks: each key is tried with its provider's cheapest
 * authenticated call (listing models), so a revoked, mistyped or exhausted key
 * fails the deploy job instead of the agents. See docs/live-check.md.
 *
 * Core module: never prints, never reads process.env, and imports only the
 * catalog, errors, findings and node built-ins (global fetch), so the loader
 * can ship it.
 */
export type { FetchLike, ProbeKeysOptions, ProbeOptions, ProbeProgress, ProbeResult, ProbeStatus } from './types.js'
export { classify, parseRetryAfter, type Classification } from './classify.js'
export { assertCatalogOrigin, parseAllowedOrigins, probeUrl } from './url.js'
export { BUILTIN_PROBE_ORIGINS, catalogOriginProblem } from '../catalog/origins.js'
export { probeKey, probeHeaders, PROBE_DEFAULTS, type ProbeKeyOptions } from './probe-key.js'
export { PROVIDER_REGIONAL_ORIGINS, regionalTarget, type RegionBaseUrls, type RegionalTarget } from './regional.js'
export { probeKeys, checkEnvironment, BATCH_DEFAULTS, type CheckEnvironmentOptions } from './check.js'
export { probeFindings, checkMarkdown, checkText, checkSummary, PROBE_CODES, type ProbeFindingOptions } from './report.js'
