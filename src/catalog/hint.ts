/**
 * Safe hints: identify a key without revealing it, the way provider consoles
 * do (`sk-…wxyz`). Reviewers see the provider, the length and the last four
 * characters; never more. Values shorter than 16 characters show no
 * characters at all, since four of eight would give half the secret away.
 */
import type { CatalogIndex } from './resolve.js'

/** Parts of a hint, for tables. */
export interface KeyHint {
    readonly provider: string
    readonly length: number
    /** Last four characters, or '' for short values. */
    readonly last4: string
}

/** Computes the hint parts for the value of `name`. */
export const keyHint = (name: string, value: string, index?: CatalogIndex): KeyHint => {
    const chars = [...value]
    return {
        provider: index?.resolve(name)?.spec.service ?? 'custom',
        length: chars.length,
        last4: chars.length >= 16 ? chars.slice(-4).join('') : '',
    }
}

/** One-line hint, e.g. `openai, 51 chars, …wxyz`. */
export const formatHint = (hint: KeyHint): string =>
    `${hint.provider}, ${hint.length} chars${hint.last4 ? `, …${hint.last4}` : ''}`
