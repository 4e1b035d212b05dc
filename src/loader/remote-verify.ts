/**
 * Accepting a remote bundle: the signed envelope is checked against the
 * pinned key, the expected agent and environment and the bundle held now
 * (rollback) before anything is decrypted; after decryption the payload must
 * repeat the signed header. Each refusal is one typed error naming what was
 * wrong (fingerprints, names, times), never content.
 */
import { isKeyfleetError } from '../errors.js'
import { parseEnvelope, verifyEnvelope, type EnvelopeHeader } from '../sign/envelope.js'
import { fingerprint } from '../sign/keys.js'
import { openBundle, type BundleInfo, type IdentitySource } from './decrypt.js'
import { LoaderCode, loaderError } from './errors.js'
import type { ResolvedRemote } from './remote-options.js'

/** The bundle held now: its signed header and exact text. */
export interface HeldBundle {
    readonly header: EnvelopeHeader
    readonly text: string
}

/** An accepted bundle. */
export interface AcceptedBundle extends HeldBundle {
    readonly entries: Map<string, string>
    readonly info: BundleInfo
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * Verifies and opens `text`.
 * @param held - the bundle served now (its agent and environment are pinned too), if any.
 * @throws KeyfleetError `LOADER_BUNDLE_UNSIGNED`, `LOADER_BUNDLE_INVALID`, `LOADER_BUNDLE_WRONG_SIGNER`,
 *   `LOADER_BUNDLE_FORGED`, `LOADER_BUNDLE_MISMATCH`, `LOADER_BUNDLE_ROLLBACK`, and
 *   `LOADER_NO_IDENTITY` / `LOADER_DECRYPT_FAILED` / `LOADER_PARSE_FAILED` from decryption.
 */
export const acceptBundle = async (text: string, remote: ResolvedRemote, identity: IdentitySource, held: HeldBundle | undefined, where = remote.display): Promise<AcceptedBundle> => {
    let envelope
    try {
        envelope = parseEnvelope(text)
    } catch (error) {
        const code = isKeyfleetError(error) && error.code === 'SIGN_UNSIGNED' ? LoaderCode.BUNDLE_UNSIGNED : LoaderCode.BUNDLE_INVALID
        const what = code === LoaderCode.BUNDLE_UNSIGNED ? 'is not signed' : 'is not a whole signed bundle (cut short or damaged)'
        throw loaderError(code, `${where} ${what}; refused, keeping the last good keys. Publish bundles with the deploy workflow (keyfleet publish), which signs them`, { file: where })
    }
    const verdict = verifyEnvelope(envelope, remote.signingKey)
    if (!verdict.ok) {
        if (verdict.reason === 'wrong-signer') {
            throw loaderError(LoaderCode.BUNDLE_WRONG_SIGNER, `${where} is signed by ${verdict.signer}, not by the pinned signing key ${fingerprint(remote.signingKey)}; refused, keeping the last good keys. If the environment's key was rotated, update the host's signing key`, { file: where })
        }
        throw loaderError(LoaderCode.BUNDLE_FORGED, `${where}: the signature does not match the bundle (tampered, or a header was changed); refused, keeping the last good keys`, { file: where })
    }
    const h = envelope.header
    const agent = remote.agent ?? held?.header.agent
    const environment = remote.environment ?? held?.header.environment
    if ((agent !== undefined && h.agent !== agent) || (environment !== undefined && h.environment !== environment)) {
        throw loaderError(LoaderCode.BUNDLE_MISMATCH, `${where} is for agent ${h.agent} in ${h.environment}, this host is ${agent ?? '?'} in ${environment ?? '?'}; refused, keeping the last good keys. Check the URL`, { file: where })
    }
    if (held !== undefined && (h.issuedAt < held.header.issuedAt || (h.issuedAt === held.header.issuedAt && text !== held.text))) {
        throw loaderError(LoaderCode.BUNDLE_ROLLBACK, `${where} was issued ${iso(h.issuedAt)} (generation ${h.generation}), not after the bundle held now (${iso(held.header.issuedAt)}, generation ${held.header.generation}); refused as a rollback or replay, keeping the last good keys`, { file: where })
    }
    const { entries, info } = await openBundle(Buffer.from(envelope.ciphertext, 'utf8'), identity, where)
    if (info.agent !== h.agent || info.environment !== h.environment || info.generation !== h.generation) {
        throw loaderError(LoaderCode.BUNDLE_MISMATCH, `${where}: the decrypted bundle does not match its signed header (agent, environment or generation); refused, keeping the last good keys`, { file: where })
    }
    return { header: h, text, entries, info }
}
