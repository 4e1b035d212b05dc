/** Which store a path uses, as sops decides by suffix, plus keyfleet's `env.secrets` rule. */
import { basename } from 'node:path'
import type { StoreKind } from './types.js'

/**
 * sops' formats.go: a case-sensitive suffix test, so `.env` and `x.env` are dotenv, `.yaml`/`.yml`
 * yaml, `.json` json, anything else (`x.YML` included) binary. A file named `env.secrets` is dotenv:
 * keyfleet always passes `--input-type dotenv` for it. Never throws.
 */
export const storeForPath = (path: string): StoreKind => (basename(path) === 'env.secrets' ? 'dotenv' : sopsStoreForPath(path))

/**
 * The store sops 3.13.2 itself picks for a path when no `--input-type`/`--output-type` is given
 * (formats.go FormatForPath), without keyfleet's `env.secrets` rule: `env.secrets` is binary to sops.
 * `keyfleet decrypt` uses it so that it agrees with `sops decrypt` flag for flag. Never throws.
 */
export const sopsStoreForPath = (path: string): StoreKind => {
    if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'yaml'
    if (path.endsWith('.json')) return 'json'
    if (path.endsWith('.env')) return 'dotenv'
    return 'binary'
}
