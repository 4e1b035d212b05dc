/**
 * `keyfleet rotate-key` (issue 17): the guided overlap rotation of one
 * provider key, resumable from what git and the cluster say. No local state:
 * the step is read off the pool members in env.secrets (working tree, HEAD and
 * history, names only) and deployment.yaml; the cluster's confirmation comes
 * from `rollout status`.
 *
 *   a. the new value goes in as the next pool member (one above every member,
 *      so the newest is always the highest index: what `preferNewest` serves),
 *      and every agent reading the pool gets it in deployment.yaml;
 *   b. once every such agent serves that render, the old members leave
 *      deployment.yaml, then env.secrets;
 *   c. once every agent serves that render too, the old key may be revoked.
 */
import { parseDocument, isMap, isScalar, isSeq, type Document, type YAMLMap, type YAMLSeq } from 'yaml'
import type { CatalogIndex } from '../catalog/index.js'
import { KeyfleetError } from '../errors.js'
import type { Deployment } from '../render/index.js'

/** Data names of a SOPS dotenv file, key-less (sops metadata excluded), in file order. */
export const dotenvNames = (text: string): string[] => {
    const out: string[] = []
    for (const line of text.split(/\r?\n/)) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)
        if (m && !(m[1] as string).startsWith('sops_')) out.push(m[1] as string)
    }
    return out
}

/** The pool members of `base` among `names`, by pool index (base first). */
export const poolMembers = (names: readonly string[], base: string, index: CatalogIndex): string[] => {
    const members = names.map((n) => ({ n, r: index.resolve(n) })).filter((x) => x.r !== undefined && x.r.spec.name === base && x.r.name === x.n)
    return members.sort((a, b) => (a.r?.poolIndex ?? 0) - (b.r?.poolIndex ?? 0)).map((x) => x.n)
}

/** The member name one above every present member: `NAME_2` after `NAME`, `NAME_4` after `NAME_3`. */
export const nextMember = (members: readonly string[], base: string, index: CatalogIndex): string => {
    const top = Math.max(0, ...members.map((m) => index.resolve(m)?.poolIndex ?? 1))
    return `${base}_${top + 1}`
}

/** Agents of the deployment reading any of `members`, with the members each reads. */
export const readersOf = (deployment: Deployment, members: readonly string[]): Map<string, string[]> => {
    const out = new Map<string, string[]>()
    for (const a of deployment.agents) {
        const reads = a.keys.filter((k) => members.includes(k))
        if (reads.length > 0) out.set(a.name, reads)
    }
    return out
}

/** Where a rotation stands, read off the repository. */
export type RotationStep =
    | { readonly step: 'idle' }
    | { readonly step: 'start'; readonly next: string }
    | { readonly step: 'finish-add'; readonly newest: string; readonly old: readonly string[]; readonly agents: readonly string[] }
    | { readonly step: 'await-overlap'; readonly newest: string; readonly old: readonly string[] }
    | { readonly step: 'finish-remove'; readonly newest: string; readonly old: readonly string[] }
    | { readonly step: 'await-removal'; readonly removed: readonly string[]; readonly from: string }

/** Inputs of {@link rotationStep}: names only. */
export interface RotationFacts {
    readonly base: string
    /** Pool members in the working tree's env.secrets, by index. */
    readonly members: readonly string[]
    /** The last removal of pool members: from the working tree against HEAD, else the newest commit that changed the membership, if it removed members. */
    readonly lastRemoval: { readonly removed: readonly string[]; readonly from: string } | undefined
    readonly deployment: Deployment
    /** `--new`: begin a rotation. */
    readonly begin: boolean
    readonly index: CatalogIndex
}

/**
 * The step to run next.
 * @throws KeyfleetError `ROTATE_NO_KEY` when the environment lacks the key, `ROTATE_IN_PROGRESS` for `--new` mid-rotation.
 */
export const rotationStep = (f: RotationFacts): RotationStep => {
    if (f.members.length === 0) throw new KeyfleetError('ROTATE_NO_KEY', `the environment has no ${f.base} (nor a pool member of it): add it with \`keyfleet set\` first`)
    if (f.members.length >= 2) {
        if (f.begin) throw new KeyfleetError('ROTATE_IN_PROGRESS', `a rotation of ${f.base} is in progress (${f.members.join(', ')}): run rotate-key without --new to continue it`)
        const newest = f.members[f.members.length - 1] as string
        const old = f.members.slice(0, -1)
        const readers = readersOf(f.deployment, f.members)
        const missing = [...readers].filter(([, reads]) => !reads.includes(newest)).map(([a]) => a)
        const readOld = [...readers].some(([, reads]) => reads.some((r) => old.includes(r)))
        if (!readOld) return { step: 'finish-remove', newest, old }
        if (missing.length > 0) return { step: 'finish-add', newest, old, agents: missing }
        return { step: 'await-overlap', newest, old }
    }
    if (f.begin) return { step: 'start', next: nextMember(f.members, f.base, f.index) }
    if (f.lastRemoval) return { step: 'await-removal', removed: f.lastRemoval.removed, from: f.lastRemoval.from }
    return { step: 'idle' }
}

const agentItems = (doc: Document): { name: string; keys: YAMLSeq; agent: YAMLMap }[] => {
    const agents = doc.get('agents')
    if (!isSeq(agents)) return []
    const out: { name: string; keys: YAMLSeq; agent: YAMLMap }[] = []
    for (const item of agents.items) {
        if (!isMap(item)) continue
        const keys = item.get('keys')
        const name = item.get('name')
        if (isSeq(keys) && typeof name === 'string') out.push({ name, keys, agent: item })
    }
    return out
}

/**
 * deployment.yaml with `member` added to the keys of each agent in `agents` (comments and order kept).
 */
export const addToDeployment = (text: string, agents: readonly string[], member: string): string => {
    const doc = parseDocument(text)
    for (const a of agentItems(doc)) if (agents.includes(a.name)) a.keys.add(member)
    return doc.toString()
}

/** deployment.yaml without any key entry (or `weights:` entry) that resolves to one of `members` (a spelling, alias or service). */
export const removeFromDeployment = (text: string, members: readonly string[], index: CatalogIndex): string => {
    const doc = parseDocument(text)
    const kept = (node: unknown): boolean => {
        const value = isScalar(node) ? node.value : node
        const r = typeof value === 'string' ? index.resolve(value) : undefined
        return r === undefined || !members.includes(r.name)
    }
    for (const a of agentItems(doc)) {
        a.keys.items = a.keys.items.filter(kept)
        // A weight for a member the agent no longer reads is a KF320 error: it goes with the member.
        const weights = a.agent.get('weights')
        if (isMap(weights)) {
            weights.items = weights.items.filter((pair) => kept(pair.key))
            if (weights.items.length === 0) a.agent.delete('weights')
        }
    }
    return doc.toString()
}
