/**
 * Opens encrypted sources in process: SOPS files (via the native SOPS reader,
 * MAC verified) and age-encrypted bundles. Both modules are imported lazily, so
 * an agent reading a plain Secret volume never loads the crypto code.
 */
import { readFileSync } from 'node:fs'
import { isKeyfleetError } from '../errors.js'
import { LoaderCode, loaderError, systemCause } from './errors.js'
import { declaredWeights } from './deployed.js'
import { keysOfObject } from './parse.js'
import type { Weights } from '../render/generation.js'

/** Where the age identities for encrypted sources come from. */
export interface IdentitySource {
    /** Identity text: one `AGE-SECRET-KEY-…` per line, keys.txt comments allowed. */
    readonly identity?: string | undefined
    /** Path of a keys.txt-format identity file, read each time a source is decrypted (so it may rotate too). */
    readonly identityFile?: string | undefined
}

const identitiesOf = async (from: IdentitySource, source: string): Promise<string[]> => {
    const { parseIdentityFile } = await import('../age/index.js')
    if (from.identity !== undefined) return parseIdentityFile(from.identity, 'the configured identity')
    if (from.identityFile !== undefined) {
        let text: string
        try {
            text = readFileSync(from.identityFile, 'utf8')
        } catch (error) {
            throw loaderError(LoaderCode.NO_IDENTITY, `cannot read the identity file ${from.identityFile}; check the path and its permissions`, { file: from.identityFile, cause: systemCause(error) })
        }
        return parseIdentityFile(text, from.identityFile)
    }
    throw loaderError(LoaderCode.NO_IDENTITY, `${source} is encrypted but no age identity is configured; pass identity or identityFile, or set KEYFLEET_AGE_KEY_FILE`, { file: source })
}

const wrap = (source: string, what: string) => (error: unknown): never => {
    if (isKeyfleetError(error) && error.code.startsWith('LOADER_')) throw error
    const code = isKeyfleetError(error) ? error.code : 'ERROR'
    // The cause is a KeyfleetError from the age/sops modules (redacted by contract);
    // anything else is replaced, since its message may quote the input.
    throw loaderError(LoaderCode.DECRYPT_FAILED, `cannot open ${what} ${source} (${code}); keeping the last good keys. If it is mid-write this clears on the next change; else check the identity and the file`, {
        file: source,
        cause: isKeyfleetError(error) ? error : new Error('details withheld'),
    })
}

/**
 * Decrypts a SOPS file (dotenv, JSON or YAML store) and flattens it to env names.
 * @throws KeyfleetError `LOADER_NO_IDENTITY` when no identity is configured,
 *   `LOADER_DECRYPT_FAILED` (cause: the SOPS error code, e.g. a MAC mismatch of a half-written file).
 */
export const openSops = async (text: string, store: 'dotenv' | 'json' | 'yaml', from: IdentitySource, file: string): Promise<Map<string, string>> => {
    try {
        const identities = await identitiesOf(from, file)
        const { decryptSopsFile } = await import('../sops/native/index.js')
        const tree = await decryptSopsFile(text, { store, identities, file })
        return tree.toEnvMap()
    } catch (error) {
        return wrap(file, 'the SOPS file')(error)
    }
}

/** Bundle metadata (never values) kept for `KeyStore.source`. */
export interface BundleInfo {
    readonly environment: string | undefined
    readonly agent: string | undefined
    readonly generation: string | undefined
    /** The bundle's pool weights (deployment.yaml `weights:`), when it carries well-formed ones. */
    readonly weights?: Weights
}

/**
 * Opens an age-encrypted keyfleet bundle (`bundle/v1` JSON payload).
 * @throws KeyfleetError `LOADER_NO_IDENTITY`, `LOADER_DECRYPT_FAILED` (wrong
 *   identity, tampered or truncated file), `LOADER_PARSE_FAILED` (payload not bundle JSON).
 */
export const openBundle = async (bytes: Uint8Array, from: IdentitySource, file: string): Promise<{ entries: Map<string, string>; info: BundleInfo }> => {
    let plaintext: Uint8Array
    try {
        const identities = await identitiesOf(from, file)
        const { open } = await import('../age/index.js')
        plaintext = await open(bytes, identities)
    } catch (error) {
        return wrap(file, 'the age bundle')(error)
    }
    let doc: unknown
    try {
        doc = JSON.parse(Buffer.from(plaintext).toString('utf8'))
    } catch {
        throw loaderError(LoaderCode.PARSE_FAILED, `${file} decrypts, but not to a keyfleet bundle (JSON); re-render it with keyfleet`, { file })
    }
    const entries = keysOfObject(doc, file)
    const meta = doc as Record<string, unknown>
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
    const weights = declaredWeights(meta.weights)
    return { entries, info: { environment: str(meta.environment), agent: str(meta.agent), generation: str(meta.generation), ...(weights === undefined ? {} : { weights }) } }
}
