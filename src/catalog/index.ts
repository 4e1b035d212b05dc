/** Providers and secret names: the catalog. */
export type { Catalog, CatalogProblem, ProbeSpec, SecretSpec } from './types.js'
export { builtinCatalog, builtinSecrets } from './builtin.js'
export { loadCatalog, parseCatalog, NAME_PATTERN, type ParsedCatalog } from './parse.js'
export { indexCatalog, type CatalogIndex, type Resolved } from './resolve.js'
export { isPlaceholder } from './placeholder.js'
export { keyHint, formatHint, type KeyHint } from './hint.js'
export { BUILTIN_PROBE_ORIGINS, catalogOriginProblem } from './origins.js'
export { REGION_PATTERN, VARIANT_SEPARATOR, baseUrlName, parseVariant, regionSuffix, resolveStored, variantName, type StoredResolved, type Variant } from './region.js'
