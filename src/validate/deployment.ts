/**
 * The part of `deployment.yaml` validation owns: basic structure and the
 * keys each agent reads (`agents[].keys`), with lines. The full schema
 * belongs to render (`parseDeployment` in src/render/index.ts); when that
 * module is present its findings replace the basic structure check here.
 */
import { isMap, isSeq } from 'yaml'
import type { Catalog } from '../catalog/index.js'
import type { Finding } from '../findings.js'
import { parseYamlSource } from '../yaml-source.js'
import { finding } from './codes.js'
import type { DeploymentKeyRef } from './names.js'

/** What {@link readDeployment} found. */
export interface DeploymentRead {
    readonly keys: readonly DeploymentKeyRef[]
    readonly agents: readonly { readonly name: string; readonly keys: readonly string[] }[]
    readonly findings: readonly Finding[]
    /** True when render's full schema checked the file (it reports keys unknown to the catalog itself). */
    readonly fullSchema: boolean
}

type RenderParse = (text: string, file: string, catalog: Catalog) => { findings?: readonly Finding[] }

let renderParse: Promise<RenderParse | undefined> | undefined

/** render's full-schema parser, when that module exists and exports it. */
const fullSchema = (): Promise<RenderParse | undefined> => {
    renderParse ??= (async () => {
        try {
            // @ts-ignore -- render is built by a teammate; absent or partial during development.
            const mod: Record<string, unknown> = await import('../render/index.js')
            return typeof mod.parseDeployment === 'function' ? mod.parseDeployment as RenderParse : undefined
        } catch {
            return undefined
        }
    })()
    return renderParse
}

/**
 * Reads a deployment.yaml: structure findings (KF121, from render's full
 * schema when available) and every `agents[].keys` entry with its line.
 * Never throws.
 */
export const readDeployment = async (text: string, file: string, env: string, catalog: Catalog): Promise<DeploymentRead> => {
    const src = parseYamlSource(text, file)
    const basic: Finding[] = src.syntaxErrors.map((e) => finding('KF121', file, e.line, `YAML syntax: ${e.message}`))
    const keys: DeploymentKeyRef[] = []
    // Render's schema knows the catalog's environments, not which directory the file sits in.
    const placement: Finding[] = []
    const agents: { name: string; keys: string[] }[] = []
    if (basic.length === 0) {
        const root = src.doc.contents
        const declared = isMap(root) ? src.doc.get('environment') : undefined
        if (typeof declared === 'string' && declared !== env) {
            placement.push(finding('KF121', file, src.lineOf(['environment']), `\`environment\` says "${declared}" but the file is in environments/${env}/: make them agree`))
        }
        if (!isMap(root)) {
            basic.push(finding('KF121', file, 1, 'deployment.yaml must be a mapping with `environment` and `agents` (see docs/deployment.md)'))
        } else {
            const list = src.doc.get('agents', true)
            if (!isSeq(list)) {
                basic.push(finding('KF121', file, src.lineOf(['agents']), '`agents` must be a list of agents, each with `name` and `keys`'))
            } else {
                list.items.forEach((item, i) => {
                    const at = (...rest: (string | number)[]): number => src.lineOf(['agents', i, ...rest])
                    if (!isMap(item)) { basic.push(finding('KF121', file, at(), `agent ${i + 1} must be a mapping with \`name\` and \`keys\``)); return }
                    const name = item.get('name')
                    const agent = typeof name === 'string' && name.length > 0 ? name : `#${i + 1}`
                    if (agent !== name) basic.push(finding('KF121', file, at(), `agent ${i + 1} needs a \`name\``))
                    const keyNode = item.get('keys', true)
                    if (!isSeq(keyNode) || keyNode.items.length === 0) {
                        basic.push(finding('KF121', file, at('keys'), `agent ${agent}: \`keys\` must be a non-empty list of env names or services`))
                        return
                    }
                    const names: string[] = []
                    keyNode.items.forEach((k, j) => {
                        const value = (k as { value?: unknown }).value
                        if (typeof value !== 'string') { basic.push(finding('KF121', file, at('keys', j), `agent ${agent}: keys[${j}] must be a string`)); return }
                        names.push(value)
                        keys.push({ agent, key: value, line: at('keys', j) })
                    })
                    agents.push({ name: agent, keys: names })
                })
            }
        }
    }
    const full = await fullSchema()
    if (!full) return { keys, agents, findings: [...placement, ...basic], fullSchema: false }
    try {
        const findings = (full(text, file, catalog).findings ?? []).map((f) => ({ ...f, code: f.code.startsWith('KF') ? f.code : 'KF121' }))
        return { keys, agents, findings: [...placement, ...findings], fullSchema: true }
    } catch {
        return { keys, agents, findings: [...placement, ...basic], fullSchema: false }
    }
}
