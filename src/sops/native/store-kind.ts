/** Which store a path uses, as sops decides by suffix, plus keyfleet's `env.secrets` rule. */
import { basename, extname } from 'node:path'
import type { StoreKind } from './types.js'

/**
 * `.env` -> dotenv, `.yaml`/`.yml` -> yaml, `.json` -> json, anything else -> binary
 * (sops' formats.go), except that a file named `env.secrets` is dotenv: keyfleet
 * always passes `--input-type dotenv` for it. Never throws.
 */
export const storeForPath = (path: string): StoreKind => {
    if (basename(path) === 'env.secrets') return 'dotenv'
    switch (extname(path).toLowerCase()) {
        case '.env': return 'dotenv'
        case '.yaml': case '.yml': return 'yaml'
        case '.json': return 'json'
        default: return 'binary'
    }
}
