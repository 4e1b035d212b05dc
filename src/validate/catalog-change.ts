/**
 * The catalog section of the change report: what a pull request changed in
 * environments/keyfleet.yaml, in words (environments, names, aliases, formats,
 * requirements and, above all, where probes send keys). The catalog holds no
 * secret, so the lines may quote it; they are escaped by the renderers.
 */
import { parseCatalog, type Catalog, type SecretSpec } from '../catalog/index.js'

const originOf = (spec: SecretSpec | undefined): string | undefined => {
    if (!spec?.probe) return undefined
    try { return new URL(spec.probe.baseUrl).origin } catch { return spec.probe.baseUrl }
}

const diffList = (what: string, before: readonly string[], after: readonly string[]): string[] => {
    const added = after.filter((x) => !before.includes(x))
    const removed = before.filter((x) => !after.includes(x))
    return [
        ...(added.length > 0 ? [`${what} added: ${added.join(', ')}`] : []),
        ...(removed.length > 0 ? [`${what} removed: ${removed.join(', ')}`] : []),
    ]
}

const specLines = (name: string, a: SecretSpec, b: SecretSpec): string[] => {
    const out: string[] = []
    if (a.service !== b.service) out.push(`${name}: service ${a.service} → ${b.service}`)
    out.push(...diffList(`${name}: aliases`, a.aliases, b.aliases))
    if ((a.format?.source ?? '') !== (b.format?.source ?? '')) out.push(`${name}: format ${a.format?.source ?? '(none)'} → ${b.format?.source ?? '(none)'}`)
    out.push(...diffList(`${name}: required in`, a.requiredIn, b.requiredIn))
    const [oa, ob] = [originOf(a), originOf(b)]
    if (oa !== ob) out.push(`${name}: probe origin ${oa ?? '(none)'} → ${ob ?? '(none)'} (where live checks send this key)`)
    else if (a.probe && b.probe && JSON.stringify(a.probe) !== JSON.stringify(b.probe)) out.push(`${name}: probe ${a.probe.baseUrl}${a.probe.path} (${a.probe.auth}) → ${b.probe.baseUrl}${b.probe.path} (${b.probe.auth})`)
    return out
}

/**
 * Lines describing the change of the catalog between `before` and `after`
 * (file texts; undefined when absent), or undefined when the text is identical.
 */
export const catalogChanges = (before: string | undefined, after: string | undefined, file: string): string[] | undefined => {
    if (before === after) return undefined
    if (after === undefined) return ['the catalog was removed']
    const parse = (text: string | undefined): Catalog | undefined => (text === undefined ? undefined : parseCatalog(text, file).catalog)
    const b = parse(after)
    if (!b) return ['the new catalog does not parse (see KF120 in the check)']
    const a = parse(before)
    if (before === undefined || !a) {
        return [before === undefined ? 'the catalog was added' : 'the old catalog did not parse', ...b.secrets.map((s) => `${s.name}: ${s.service}${originOf(s) ? `, probe origin ${originOf(s) ?? ''}` : ''}`)]
    }
    const out = diffList('environments', a.environments, b.environments)
    const byName = (c: Catalog): Map<string, SecretSpec> => new Map(c.secrets.map((s) => [s.name, s]))
    const [ma, mb] = [byName(a), byName(b)]
    for (const [name, spec] of mb) {
        const old = ma.get(name)
        if (!old) out.push(`${name} added (${spec.service}${originOf(spec) ? `, probe origin ${originOf(spec) ?? ''}` : ''})`)
        else out.push(...specLines(name, old, spec))
    }
    for (const name of ma.keys()) if (!mb.has(name)) out.push(`${name} removed`)
    return out.length > 0 ? out : ['formatting or comments only (no rule changed)']
}
