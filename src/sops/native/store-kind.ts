/** Which store a path uses, as sops decides by suffix, plus keyfleet's `env.secrets` rule. */
import { basename } from 'node:path'
import type { StoreKind } from './types.js'

/**
 * sops' formats.go: a case-sensitive suffix test, so `.env` and `x.env` are dotenv, `.yaml`/`.yml`
 * yaml, `.json` json, anything else (`x.YML` included) binary. A file named `env.secrets` is dotenv:
 * keyfleet always passes `--input-type dotenv` for it. Never throws.
 */
export const storeForPath = (path: string): StoreKind => {
    if (basename(path) === 'env.secrets') return 'dotenv'
    if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'yaml'
    if (path.endsWith('.json')) return 'json'
    if (path.endsWith('.env')) return 'dotenv'
    return 'binary'
}
