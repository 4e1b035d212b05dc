/**
 * The part of `deployment.yaml` validation owns: the keys each agent reads
 * (`agents[].keys`), with lines, and that `environment` matches the directory.
 * The full schema belongs to render (`parseDeployment`); its findings are the
 * structure findings here.
 */
import type { Catalog } from '../catalog/index.js'
import { parseDeployment } from '../render/deployment.js'
import type { Deployment, RegionFallback } from '../render/types.js'
import type { Finding } from '../findings.js'
import { parseYamlSource } from '../yaml-source.js'
import { finding } from './codes.js'
import type { DeploymentKeyRef } from './names.js'

/** What {@link readDeployment} found. */
export interface DeploymentRead {
    readonly keys: readonly DeploymentKeyRef[]
    /** Each agent with the keys it lists and its region (issue 18), as written. */
    readonly agents: readonly { readonly name: string; readonly keys: readonly string[]; readonly region?: string }[]
    /** `fallback: global` in the file: a regional agent without a variant gets the global key. */
    readonly fallback: RegionFallback
    /** The parsed deployment when it is valid (its regions' base URLs are checked against the allowed origins). */
    readonly deployment: Deployment | undefined
    readonly findings: readonly Finding[]
}

/**
 * Reads a deployment.yaml: render's schema findings, a KF121 when
 * `environment` disagrees with the directory, and every `agents[].keys`
 * entry with its line. Never throws.
 */
export const readDeployment = async (text: string, file: string, env: string, catalog: Catalog): Promise<DeploymentRead> => {
    const src = parseYamlSource(text, file)
    const keys: DeploymentKeyRef[] = []
    const agents: { name: string; keys: string[]; region?: string }[] = []
    // Render's schema knows the catalog's environments, not which directory the file sits in.
    const placement: Finding[] = []
    // Read through the source's views, not `src.doc`: deployment.yaml in the fast path's subset then
    // never loads the `yaml` package (issue 15). `toJSON()` of a scalar is what `doc.get()` returned.
    const root = src.at([])
    const isDoc = src.syntaxErrors.length === 0 && root?.kind === 'map'
    if (isDoc) {
        const declared = src.at(['environment'])?.toJSON()
        if (typeof declared === 'string' && declared !== env) {
            placement.push(finding('KF121', file, src.lineOf(['environment']), `\`environment\` says "${declared}" but the file is in environments/${env}/: make them agree`))
        }
        const list = src.at(['agents'])
        if (list?.kind === 'seq') {
            list.items.forEach((item, i) => {
                if (item.kind !== 'map') return
                const name = src.at(['agents', i, 'name'])?.toJSON()
                const agent = typeof name === 'string' && name.length > 0 ? name : `#${i + 1}`
                const keyNode = src.at(['agents', i, 'keys'])
                const names: string[] = []
                const rawRegion = src.at(['agents', i, 'region'])?.toJSON()
                const region = typeof rawRegion === 'string' && rawRegion !== '' ? rawRegion : undefined
                if (keyNode?.kind === 'seq') {
                    keyNode.items.forEach((k, j) => {
                        const value = k.kind === 'other' ? k.toJSON() : undefined
                        if (typeof value !== 'string') return
                        names.push(value)
                        keys.push({ agent, key: value, line: src.lineOf(['agents', i, 'keys', j]), ...(region === undefined ? {} : { region }) })
                    })
                }
                agents.push({ name: agent, keys: names, ...(region === undefined ? {} : { region }) })
            })
        }
    }
    // The full schema is render's: the PR check and the renderer must agree on what is valid.
    const { findings, deployment } = parseDeployment(text, file, catalog)
    const fallback: RegionFallback = isDoc && src.at(['fallback'])?.toJSON() === 'global' ? 'global' : 'none'
    return { keys, agents, fallback, deployment, findings: [...placement, ...findings] }
}
