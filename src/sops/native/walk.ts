/**
 * Walks a document in sops' order (walkBranch/walkSlice) and decides, for
 * each value and comment, whether the selection rule says it is encrypted
 * (sops.go shouldBeEncrypted). Regexes run in RE2 (src/re2.ts), unanchored
 * like Go's regexp.Match, with Go's syntax and meaning.
 */
import { tryCompilePattern, type Pattern } from '../../re2.js'
import type { Branches, CommentNode, ScalarNode, TreeNode } from './tree.js'
import type { SopsMetadata } from './types.js'

/** One walked leaf: a non-null scalar or a comment, with its AAD path. */
export type WalkEvent =
    | { readonly kind: 'value'; readonly node: ScalarNode; readonly path: readonly string[]; readonly encrypted: boolean }
    | { readonly kind: 'comment'; readonly node: CommentNode; readonly path: readonly string[]; readonly encrypted: boolean }

// sops calls regexp.Match and drops its error: a pattern that does not compile matches no name (verified with sops 3.13.2).
const compile = (pattern: string): Pattern => tryCompilePattern(pattern) ?? { source: pattern, test: () => false }

/** Builds sops' shouldBeEncrypted for `metadata`. */
const selector = (metadata: SopsMetadata) => {
    const rule = metadata.selection ?? { kind: 'unencrypted_suffix', value: '_unencrypted' }
    const regex = rule.kind.endsWith('regex') ? compile(rule.value) : undefined
    return (path: readonly string[], stack: readonly (readonly string[])[], isComment: boolean): boolean => {
        switch (rule.kind) {
            case 'unencrypted_suffix': return !path.some((p) => p.endsWith(rule.value))
            case 'encrypted_suffix': return path.some((p) => p.endsWith(rule.value))
            case 'unencrypted_regex': return !path.some((p) => (regex as Pattern).test(p))
            case 'encrypted_regex': return path.some((p) => (regex as Pattern).test(p))
            case 'unencrypted_comment_regex': return !stack.some((cs) => cs.some((c) => (regex as Pattern).test(c)))
            case 'encrypted_comment_regex': {
                // The comment line that matches is itself left in plaintext: skip the newest comment when walking a comment.
                const last = stack.length - 1
                return stack.some((cs, i) => cs.some((c, j) => !(isComment && i === last && j === cs.length - 1) && (regex as Pattern).test(c)))
            }
        }
    }
}

/** Walks every branch in order. Comment text used for the comment rules is the text as stored. */
export const walk = (branches: Branches, metadata: SopsMetadata, _file?: string): WalkEvent[] => {
    const should = selector(metadata)
    const events: WalkEvent[] = []
    const visit = (node: TreeNode, path: readonly string[], stack: string[][]): void => {
        if (node.kind === 'scalar') {
            if (node.scalar.type !== 'null') events.push({ kind: 'value', node, path, encrypted: should(path, stack, false) })
            return
        }
        const own: string[][] = [...stack, []]
        for (const item of node.items) {
            if (item.kind === 'comment') {
                (own[own.length - 1] as string[]).push(item.text)
                events.push({ kind: 'comment', node: item, path, encrypted: should(path, own, true) })
                continue
            }
            if (item.kind === 'entry') visit(item.value, [...path, item.key], own)
            else visit(item, path, own)
            own[own.length - 1] = []
        }
    }
    for (const branch of branches) visit(branch, [], [])
    return events
}
