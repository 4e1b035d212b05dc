/**
 * The catalog's data model: which secrets exist, which provider each belongs
 * to, how each is recognised and where each is required.
 */

/** How a provider's cheapest authenticated call is made (issue: live checks). */
export interface ProbeSpec {
    /** Base URL without trailing slash, e.g. `https://api.openai.com`. */
    readonly baseUrl: string
    /** Path of a cheap authenticated GET, e.g. `/v1/models`. */
    readonly path: string
    /** Where the key goes: never in the URL. */
    readonly auth: 'bearer' | 'x-api-key' | 'x-goog-api-key'
    /** Extra fixed headers, e.g. `anthropic-version`. */
    readonly headers: Readonly<Record<string, string>>
}

import type { Pattern } from '../re2.js'

/** One secret the fleet may hold: a provider key or a declared custom secret. */
export interface SecretSpec {
    /** Canonical environment-variable name, UPPER_SNAKE, e.g. `OPENAI_API_KEY`. */
    readonly name: string
    /** Service name used by agents and deployment.yaml, e.g. `openai`, `claude`. */
    readonly service: string
    /** Human title, e.g. `Anthropic (Claude)`. */
    readonly title: string
    /** Other names that mean this secret, e.g. `CLAUDE_API_KEY`. */
    readonly aliases: readonly string[]
    /**
     * Format rule every value must match, if the catalog gives one: Go RE2
     * syntax, run in a linear-time engine (src/re2.ts); `test` searches
     * unanchored, so rules anchor themselves with `^…$`.
     */
    readonly format: Pattern | undefined
    /** Environments in which this secret must be present. */
    readonly requiredIn: readonly string[]
    /** Live probe, for provider keys. */
    readonly probe: ProbeSpec | undefined
    /** True for secrets declared under `custom:` rather than `providers:`. */
    readonly custom: boolean
    /** Selection weight per pool member (`OPENAI_API_KEY_2: 3`); a member not listed weighs 1. */
    readonly weights?: Readonly<Record<string, number>>
}

/** The whole catalog. */
export interface Catalog {
    /** Environment names in promotion order, e.g. `dev`, `stage`, `prod`. */
    readonly environments: readonly string[]
    readonly secrets: readonly SecretSpec[]
}

/** A problem found while reading `keyfleet.yaml`. */
export interface CatalogProblem {
    readonly line: number
    readonly message: string
}
