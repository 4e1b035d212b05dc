/**
 * Options of the remote (pull) source and their defaults: the channel URL,
 * the pinned signing key, the token, the poll interval and the cache.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { isKeyfleetError } from '../errors.js'
import { parsePublicKey, type PublicSigningKey } from '../sign/keys.js'
import { LoaderCode, loaderError, systemCause } from './errors.js'
import type { EnvLike } from './snapshot.js'

/** The remote-source fields of `openKeys` options (see docs/loader.md, "Remote source"). */
export interface RemoteSourceOptions {
    /** HTTP(S) URL of the agent's signed bundle. Default `env.KEYFLEET_SECRETS_URL`. */
    readonly url?: string | undefined
    /** The environment's public signing key line (`ssh-ed25519 AAAA…`). Default `env.KEYFLEET_SIGNING_KEY`. */
    readonly signingKey?: string | undefined
    /** File holding that key line (e.g. a copy of environments/<env>/signing.pub). Default `env.KEYFLEET_SIGNING_KEY_FILE`. */
    readonly signingKeyFile?: string | undefined
    /** Poll interval in ms (each poll waits 0.9–1.1 × this). Default 10 000, minimum 100. */
    readonly pollMs?: number | undefined
    /** Cap of the failure backoff in ms. Default 300 000. */
    readonly backoffMaxMs?: number | undefined
    /** File holding a bearer token for a private channel. Default `env.KEYFLEET_SECRETS_TOKEN_FILE`; `env.KEYFLEET_SECRETS_TOKEN` is read too. */
    readonly tokenFile?: string | undefined
    /** The agent the bundle must be for. Default: the agent of the first bundle accepted (then pinned). */
    readonly agent?: string | undefined
    /** The environment the bundle must be for. Default: from the signing key's comment `keyfleet-signing:<env>`, else pinned on first use. */
    readonly environment?: string | undefined
    /** Directory of the encrypted last-good cache (0700, files 0600); `false`: no cache. Default `env.KEYFLEET_CACHE_DIR`, else `~/.cache/keyfleet`. */
    readonly cacheDir?: string | false | undefined
    /** Timeout of one request in ms. Default 10 000. */
    readonly requestTimeoutMs?: number | undefined
}

/** Remote options with every default applied. */
export interface ResolvedRemote {
    readonly url: URL
    /** `origin + pathname` only: safe to print (a pre-signed query string is a credential). */
    readonly display: string
    readonly signingKey: PublicSigningKey
    readonly pollMs: number
    readonly backoffMaxMs: number
    readonly token: (() => string | undefined)
    readonly agent: string | undefined
    readonly environment: string | undefined
    readonly cacheFile: string | undefined
    readonly requestTimeoutMs: number
}

/** An option or variable that is unset or blank counts as not given. Shared with options.ts. */
export const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value)
/** A numeric option: the fallback when unset or not finite, else at least `min`. Shared with options.ts. */
export const num = (value: number | undefined, fallback: number, min: number): number =>
    value === undefined || !Number.isFinite(value) ? fallback : Math.max(min, value)

const bad = (message: string, cause?: unknown): never => {
    throw loaderError(LoaderCode.REMOTE_OPTIONS, message, cause === undefined ? {} : { cause })
}

const readKey = (o: RemoteSourceOptions, env: EnvLike): PublicSigningKey => {
    let text = nonEmpty(o.signingKey)
    const file = nonEmpty(o.signingKeyFile)
    if (text === undefined && file !== undefined) {
        try { text = readFileSync(file, 'utf8') } catch (error) { bad(`cannot read the signing key file ${file}; check the path`, systemCause(error)) }
    }
    if (text === undefined && o.signingKey === undefined && o.signingKeyFile === undefined) {
        text = nonEmpty(env.KEYFLEET_SIGNING_KEY)
        const envFile = nonEmpty(env.KEYFLEET_SIGNING_KEY_FILE)
        if (text === undefined && envFile !== undefined) {
            try { text = readFileSync(envFile, 'utf8') } catch (error) { bad(`cannot read the signing key file ${envFile} (KEYFLEET_SIGNING_KEY_FILE); check the path`, systemCause(error)) }
        }
    }
    if (text === undefined) return bad('a remote source needs the environment\'s public signing key: pass signingKey or signingKeyFile, or set KEYFLEET_SIGNING_KEY_FILE (a copy of environments/<env>/signing.pub)')
    try {
        return parsePublicKey(text)
    } catch (error) {
        return bad(`the signing key is not an ssh-ed25519 public key line; copy environments/<env>/signing.pub again`, isKeyfleetError(error) ? error : undefined)
    }
}

const tokenReader = (o: RemoteSourceOptions, env: EnvLike): (() => string | undefined) => {
    const file = nonEmpty(o.tokenFile) ?? nonEmpty(env.KEYFLEET_SECRETS_TOKEN_FILE)
    const direct = nonEmpty(env.KEYFLEET_SECRETS_TOKEN)
    if (file === undefined) return () => direct?.trim()
    // Read at each request: a rotated token file takes effect without a restart.
    return () => {
        try {
            return nonEmpty(readFileSync(file, 'utf8'))?.trim()
        } catch {
            return direct?.trim()
        }
    }
}

/** The default cache directory: `KEYFLEET_CACHE_DIR`, `$XDG_CACHE_HOME/keyfleet`, else `~/.cache/keyfleet`. */
export const defaultCacheDir = (env: EnvLike): string =>
    nonEmpty(env.KEYFLEET_CACHE_DIR) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'keyfleet')

/**
 * Resolves the remote options, or undefined when no URL is given.
 * @throws KeyfleetError `LOADER_REMOTE_OPTIONS` (bad URL, no signing key).
 */
export const resolveRemote = (o: RemoteSourceOptions, env: EnvLike): ResolvedRemote | undefined => {
    const given = nonEmpty(o.url) ?? nonEmpty(env.KEYFLEET_SECRETS_URL)
    if (given === undefined) return undefined
    let url: URL
    try { url = new URL(given) } catch { return bad('the remote source URL does not parse; give an http(s):// URL of the agent\'s bundle') }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') bad('the remote source URL must be http:// or https://')
    if (url.username !== '' || url.password !== '') bad('put no credentials in the remote source URL; use tokenFile or KEYFLEET_SECRETS_TOKEN_FILE')
    const signingKey = readKey(o, env)
    const fromComment = /^keyfleet-signing:([a-z0-9][a-z0-9._-]*)$/.exec(signingKey.comment)?.[1]
    const cacheDir = o.cacheDir === false ? undefined : nonEmpty(o.cacheDir) ?? defaultCacheDir(env)
    const display = `${url.origin}${url.pathname}`
    return {
        url,
        display,
        signingKey,
        pollMs: num(o.pollMs, 10_000, 100),
        backoffMaxMs: num(o.backoffMaxMs, 300_000, 100),
        token: tokenReader(o, env),
        agent: nonEmpty(o.agent),
        environment: nonEmpty(o.environment) ?? fromComment,
        cacheFile: cacheDir === undefined ? undefined : join(cacheDir, `${createHash('sha256').update(url.href).digest('hex').slice(0, 24)}.bundle`),
        requestTimeoutMs: num(o.requestTimeoutMs, 10_000, 100),
    }
}
