/**
 * The part of `deployment.yaml` validation owns: the keys each agent reads
 * (`agents[].keys`), with lines, and that `environment` matches the directory.
 * The full schema belongs to render (`parseDeployment`); its findings are the
 * structure findings here.
 */
import { isMap, isSeq } from 'yaml'
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
    const root = src.doc.contents
    if (src.syntaxErrors.length === 0 && isMap(root)) {
        const declared = src.doc.get('environment')
        if (typeof declared === 'string' && declared !== env) {
            placement.push(finding('KF121', file, src.lineOf(['environment']), `\`environment\` says "${declared}" but the file is in environments/${env}/: make them agree`))
        }
        const list = src.doc.get('agents', true)
        if (isSeq(list)) {
            list.items.forEach((item, i) => {
                if (!isMap(item)) return
                const name = item.get('name')
                const agent = typeof name === 'string' && name.length > 0 ? name : `#${i + 1}`
                const keyNode = item.get('keys', true)
                const names: string[] = []
                const rawRegion = item.get('region')
                const region = typeof rawRegion === 'string' && rawRegion !== '' ? rawRegion : undefined
                if (isSeq(keyNode)) {
                    keyNode.items.forEach((k, j) => {
                        const value = (k as { value?: unknown }).value
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
    const fallback: RegionFallback = src.syntaxErrors.length === 0 && isMap(root) && src.doc.get('fallback') === 'global' ? 'global' : 'none'
    return { keys, agents, fallback, deployment, findings: [...placement, ...findings] }
}
