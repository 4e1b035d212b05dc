/**
 * The store-independent document model, mirroring sops' TreeBranch: ordered
 * maps, lists, typed scalars and comments. Parsers build it; the walker,
 * decryptor and formatter consume it. Internal to `sops/native`.
 */

/** A scalar with sops' Go type, so that MAC bytes come out exactly as `ToBytes` makes them. */
export type Scalar =
    /** `bytes` holds the exact plaintext when it is not valid UTF-8 (sops hashes and prints bytes; `value` then has U+FFFD). */
    | { readonly type: 'str'; readonly value: string; readonly bytes?: Buffer }
    | { readonly type: 'int'; readonly value: bigint }
    | { readonly type: 'float'; readonly value: number }
    | { readonly type: 'bool'; readonly value: boolean }
    /** `text` is Go's `time.MarshalText` form (RFC 3339 with nanoseconds trimmed). */
    | { readonly type: 'time'; readonly text: string }
    | { readonly type: 'null' }
    /**
     * A value whose ENC label says `type:comment`: sops decrypts it to its Go `Comment{Value, Inline}` struct,
     * hashes `Value` and prints the struct (`{"Value": …, "Inline": false}`). The label is not authenticated.
     */
    | { readonly type: 'comment'; readonly value: string; readonly bytes?: Buffer }

export interface ScalarNode { readonly kind: 'scalar'; readonly scalar: Scalar; readonly raw: string; readonly line: number | undefined }
/** `inline`: a YAML line comment (`key: value # text`), which sops keeps on the value's line. */
export interface CommentNode { readonly kind: 'comment'; readonly text: string; readonly line: number | undefined; readonly inline?: boolean }
export interface MapEntry { readonly kind: 'entry'; readonly key: string; readonly value: TreeNode; readonly line: number | undefined }
export interface MapNode { readonly kind: 'map'; readonly items: readonly (MapEntry | CommentNode)[] }
export interface ListNode { readonly kind: 'list'; readonly items: readonly (TreeNode | CommentNode)[] }
export type TreeNode = MapNode | ListNode | ScalarNode

/** A whole document set: one branch per YAML document (other stores have one). */
export type Branches = readonly MapNode[]

export const scalarNode = (scalar: Scalar, raw: string, line: number | undefined): ScalarNode => ({ kind: 'scalar', scalar, raw, line })
export const str = (value: string): Scalar => ({ type: 'str', value })
