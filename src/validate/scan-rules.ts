/**
 * Scan rules beyond the provider key formats of patterns.ts: age identities
 * (the key to every environment), high-entropy values assigned to
 * `*_KEY` / `*_TOKEN` / `*_SECRET` names (keys without a known prefix, such
 * as DeepInfra's), and plaintext Kubernetes Secrets. Each rule has a stable
 * id that `keyfleet:allow <id>` names to silence it on one line.
 */
import { createHash } from 'node:crypto'
import type { RawMatch } from './patterns.js'
import { isPlaceholder } from '../catalog/index.js'
import { looksFake } from './patterns.js'

/** Rule id of age identities. */
export const AGE_IDENTITY_RULE = 'age-identity'
/** Rule id of high-entropy values assigned to key/token/secret names. */
export const GENERIC_TOKEN_RULE = 'generic-token'
/** Rule id of plaintext Kubernetes Secret manifests. */
export const K8S_SECRET_RULE = 'k8s-secret'

const BECH32 = '[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]'
const AGE_IDENTITY = new RegExp(`(?<![A-Za-z0-9_-])AGE-SECRET-KEY-(?:PQ-)?1${BECH32}{50,}(?![A-Za-z0-9_-])`, 'g')

/**
 * SHA-256 (hex) of the published demo identities in examples/demo-keys/,
 * whose secrecy is deliberately nil. They are allowed by this fingerprint,
 * wherever they appear; a copy of a demo file with another key is not.
 */
export const PUBLISHED_DEMO_IDENTITIES: ReadonlySet<string> = new Set([
    'f91d81b2c41c3295b0483bcb52cd1510911c84f2c9f0a4999290e5f3acbefd3d', // admin
    'c66fe58549ae56dfbd7735d18ad345cc035d499980e944183d16d851acce0517', // dev
    '353693af0804e425a02ebd8bd83a0d81de0a40a8eb5f5618cdac4f90af1d4f42', // laptop-alice
    'd41654733ea7d6aeec7a1cfea2d88265a5a3b20d7826ef68c0802d2ae0124636', // prod
    'd3a76473c3c87d1f856b7fcda8520e3aa23cda304bbd9557c091b5325d191b8b', // stage
    // The public test keys of sops' and flux's own suites, copied with their vectors (test/fixtures/vectors/).
    '0051da3096a90b0f7faa302c5a9b02e35e1358d904e3a30073f58f92baec03f9', // sops-nix-yaml
    '3863bb2bc9b8b28f0e4bf4c32857a0918c8f7ec4308f46b06989164304ef3a13', // sops-age-*
    '6c0d2f3faa0cc91eb48ea1f69660d3c3cc964e4e0bbe371eff416003fb19b048', // flux-*
    '7de1f34cf039d38aab6f8feb577a880026265142524e6fa910926d634680518e', // flux-yaml-age-pq (PQ)
])

/** The fingerprint {@link PUBLISHED_DEMO_IDENTITIES} holds for an identity string. */
export const identityFingerprint = (identity: string): string => createHash('sha256').update(identity).digest('hex')

/** age identities (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`) in `line`, except the published demo ones. */
export const ageIdentities = (line: string): RawMatch[] => {
    const found: RawMatch[] = []
    for (const m of line.matchAll(AGE_IDENTITY)) {
        if (PUBLISHED_DEMO_IDENTITIES.has(identityFingerprint(m[0]))) continue
        found.push({ service: AGE_IDENTITY_RULE, start: m.index, end: m.index + m[0].length, value: m[0] })
    }
    return found
}

/** `NAME = value` where NAME ends in KEY, TOKEN or SECRET (any case, `_`/`-` separated). */
const TOKEN_ASSIGNMENT = /(?<![A-Za-z0-9_])["']?([A-Za-z][A-Za-z0-9_-]*(?:KEY|TOKEN|SECRET|key|token|secret|Key|Token|Secret))["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=]{20,200})(?![A-Za-z0-9_\-+/=])/g

/** Shannon entropy in bits per character. */
export const entropy = (value: string): number => {
    const counts = new Map<string, number>()
    for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1)
    let bits = 0
    for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length)
    return bits
}

/**
 * High-entropy values assigned to `*_KEY` / `*_TOKEN` / `*_SECRET` names.
 * A value must mix letters with digits (or both letter cases) and carry at least 3.5 bits per
 * character (random hex of 32 has about 3.8; words and identifiers far less),
 * and not be a placeholder or an obvious fake.
 */
export const genericTokens = (line: string): RawMatch[] => {
    const found: RawMatch[] = []
    for (const m of line.matchAll(TOKEN_ASSIGNMENT)) {
        const value = m[2] as string
        // Letters with digits, or both cases: a random base62 key of 32 has no digit about once in 300.
        const mixed = /[A-Za-z]/.test(value) && (/[0-9]/.test(value) || (/[a-z]/.test(value) && /[A-Z]/.test(value)))
        if (!mixed || entropy(value) < 3.5) continue
        if (isPlaceholder(value) || looksFake(value)) continue
        const start = m.index + m[0].length - value.length
        found.push({ service: GENERIC_TOKEN_RULE, start, end: start + value.length, value })
    }
    return found
}

/**
 * Lines (1-based) of plaintext Kubernetes Secrets in a YAML text: a document
 * with `kind: Secret` and a top-level `data:` or `stringData:` holding at least
 * one value that is not sops ciphertext, in a file without sops metadata.
 * A rendered Secret belongs in the cluster, never in git.
 */
export const plaintextSecretManifests = (text: string): number[] => {
    const lines = text.split(/\r?\n/)
    if (lines.some((l) => /^sops:\s*$/.test(l))) return []
    const out: number[] = []
    let isSecret = false
    let dataLine: number | undefined
    let inData = false
    const flush = (): void => { if (isSecret && dataLine !== undefined) out.push(dataLine) }
    lines.forEach((line, i) => {
        if (/^---/.test(line)) { flush(); isSecret = false; dataLine = undefined; inData = false; return }
        if (/^kind:\s*["']?Secret["']?\s*$/.test(line)) isSecret = true
        if (/^(?:data|stringData):/.test(line)) { inData = true; return }
        if (/^\S/.test(line)) { inData = false; return }
        const entry = /^\s+[^\s#:][^:]*:\s*(\S.*)$/.exec(line)
        if (inData && dataLine === undefined && entry?.[1] !== undefined && !entry[1].startsWith('ENC[')) dataLine = i + 1
    })
    flush()
    return out
}
