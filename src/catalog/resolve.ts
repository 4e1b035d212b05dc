/**
 * Name resolution: canonical names, aliases, service names and key pools
 * (`OPENAI_API_KEY_2` belongs to the pool of `OPENAI_API_KEY`).
 */
import type { Catalog, SecretSpec } from './types.js'

/** What a name or service resolves to. */
export interface Resolved {
    readonly spec: SecretSpec
    /** The canonical name asked for (a pool member keeps its suffix, e.g. `OPENAI_API_KEY_2`). */
    readonly name: string
    /** Pool index: 1 for the base name, n for `_n`. */
    readonly poolIndex: number
}

/** Fast lookups over one catalog. Build once; every method is allocation-free apart from its result. */
export interface CatalogIndex {
    readonly catalog: Catalog
    /** Resolves an env name, alias, pool member or service name; undefined when unknown. */
    resolve(nameOrService: string): Resolved | undefined
    /** The spec a service name denotes. */
    byService(service: string): SecretSpec | undefined
}

const POOL_SUFFIX = /^(.*)_([2-9]|[1-9][0-9]+)$/

/** Builds a {@link CatalogIndex}. */
export const indexCatalog = (catalog: Catalog): CatalogIndex => {
    const byName = new Map<string, SecretSpec>()
    const services = new Map<string, SecretSpec>()
    for (const spec of catalog.secrets) {
        byName.set(spec.name, spec)
        for (const alias of spec.aliases) byName.set(alias, spec)
        services.set(spec.service, spec)
    }
    const resolve = (input: string): Resolved | undefined => {
        const service = services.get(input)
        if (service) return { spec: service, name: service.name, poolIndex: 1 }
        const direct = byName.get(input)
        if (direct) return { spec: direct, name: direct.name, poolIndex: 1 }
        const pool = POOL_SUFFIX.exec(input)
        if (pool) {
            const base = byName.get(pool[1] as string)
            if (base) return { spec: base, name: `${base.name}_${pool[2]}`, poolIndex: Number(pool[2]) }
        }
        return undefined
    }
    return { catalog, resolve, byService: (s) => services.get(s) }
}
