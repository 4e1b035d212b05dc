/**
 * Regional variants of a key (issue 18): the value of `OPENAI_API_KEY` for
 * region `eu` is stored as `OPENAI_API_KEY__EU` and delivered to agents in
 * `eu` under the canonical name. The rule (docs/catalog.md, "Regional
 * variants") survives every store a name passes through: UPPER_SNAKE as
 * dotenv (`[\w.-]+`) and sops's dotenv store read it, and a Kubernetes Secret
 * data key allows `[-._a-zA-Z0-9]+`.
 */
import type { CatalogIndex, Resolved } from './resolve.js'

/**
 * Region names: lowercase letters and digits in `-`-separated parts, e.g.
 * `eu`, `us-east-1`. No `_`, so the suffix mapping below is one-to-one.
 */
export const REGION_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/

/** What separates a name from its region suffix. Catalog names may not contain it. */
export const VARIANT_SEPARATOR = '__'

/** The suffix of region `region`: upper case, `-` → `_` (`us-east-1` → `US_EAST_1`). */
export const regionSuffix = (region: string): string => region.toUpperCase().replace(/-/g, '_')

/** The stored name of `name`'s variant for `region`, e.g. `OPENAI_API_KEY_2__EU`. */
export const variantName = (name: string, region: string): string => `${name}${VARIANT_SEPARATOR}${regionSuffix(region)}`

/** A stored name split into its canonical part and region. */
export interface Variant {
    /** The canonical name (a pool member keeps its `_n`), e.g. `OPENAI_API_KEY_2`. */
    readonly name: string
    /** The region, e.g. `us-east-1`. */
    readonly region: string
}

const SUFFIX = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/

/**
 * Splits `OPENAI_API_KEY__EU` into `{ name: 'OPENAI_API_KEY', region: 'eu' }`.
 * @returns undefined for a name without a (well-formed) region suffix.
 */
export const parseVariant = (stored: string): Variant | undefined => {
    const at = stored.indexOf(VARIANT_SEPARATOR)
    if (at <= 0) return undefined
    const suffix = stored.slice(at + VARIANT_SEPARATOR.length)
    if (!SUFFIX.test(suffix)) return undefined
    return { name: stored.slice(0, at), region: suffix.toLowerCase().replace(/_/g, '-') }
}

/**
 * The name of the non-secret base-URL entry delivered next to a key:
 * `ANTHROPIC_API_KEY` → `ANTHROPIC_BASE_URL`, `OPENAI_API_KEY` →
 * `OPENAI_BASE_URL` (the names the providers' SDKs read), anything else
 * `<NAME>_BASE_URL`.
 */
export const baseUrlName = (name: string): string => `${name.replace(/_(API_KEY|KEY|TOKEN)$/, '')}_BASE_URL`

/** A stored name resolved through the catalog: a regional variant resolves by its canonical part. */
export interface StoredResolved extends Resolved {
    /** The region of a variant (`OPENAI_API_KEY__EU` → `eu`); undefined for a global name. */
    readonly region?: string | undefined
}

/**
 * Resolves a name as the environment stores it: the name itself when the
 * catalog knows it, else a regional variant `NAME__REGION` whose `NAME` the
 * catalog knows (then `name` is the canonical part, e.g. `OPENAI_API_KEY`).
 * set, the format check (KF141) and the live probe share this, so a variant
 * is checked exactly like its global key.
 */
export const resolveStored = (index: CatalogIndex, stored: string): StoredResolved | undefined => {
    const direct = index.resolve(stored)
    if (direct !== undefined) return direct
    const variant = parseVariant(stored)
    if (variant === undefined) return undefined
    const base = index.resolve(variant.name)
    // A service name (`openai__EU`) is not a stored name; only env names and aliases are.
    if (base === undefined || base.spec.service === variant.name) return undefined
    return { ...base, region: variant.region }
}
