/**
 * Unwraps the sops data key from the file's age entries (X25519 `age1…` and ML-KEM-768 hybrid `age1pq1…`).
 * src/age/ exposes `open()` for general payloads; this file stays on the format directly so that it can
 * tell "no identity matched" from "entry damaged" per entry.
 *
 * Start-up budget (issue 15): when every identity is X25519 (the usual case), the armor, the header, the
 * stanza and the payload are all opened with node:crypto (age-armor.ts, {@link openHeaderFast},
 * x25519-identity.ts), and age-encryption, whose import parses its post-quantum and P-256 code, is loaded
 * only for other identities. The armor (age-armor.ts), the header grammar (age-header.ts, on both paths) and
 * the payload (age-stream.ts) follow Go's age, as sops reads entries with it (issue 14):
 * test/sops/native/age-armor.test.ts, age-header-grammar.test.ts and age-cli.test.ts hold them to the age
 * CLI, age-sops-entry.test.ts to the sops binary, age-header.test.ts to age-encryption's parser.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { Decrypter, Identity } from 'age-encryption'
import { decodeAgeArmor } from './age-armor.js'
import { parseAgeHeader } from './age-header.js'
import { openAgePayload } from './age-stream.js'
import { nativeError } from './errors.js'
import type { SopsMetadata } from './types.js'
import { nodeX25519Identity } from './x25519-identity.js'

const NO_MATCH = "no identity matched any of the file's recipients"

/**
 * age's header, parsed (age-header.ts, Go's grammar) and authenticated with node:crypto: the file key from the
 * first identity that unwraps a stanza, then HMAC-SHA-256 under HKDF(fileKey, "header") over the header up to
 * `---` (what Go's headerMAC re-serializes, byte for byte, since the grammar admits one spelling only);
 * without age-encryption's web-stream reader, which cost most of an unwrap.
 * @throws Error NO_MATCH when no identity unwraps a stanza; any other Error for a damaged header.
 */
export const openHeaderFast = (header: Buffer, identities: readonly Identity[]): Uint8Array => {
    const { stanzas, mac, macInput } = parseAgeHeader(header)
    let fileKey: Uint8Array | null = null
    for (const identity of identities) {
        fileKey = identity.unwrapFileKey(stanzas) as Uint8Array | null
        if (fileKey !== null) break
    }
    if (fileKey === null) throw new Error(NO_MATCH)
    const hmacKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), HEADER_LABEL, 32))
    const expected = createHmac('sha256', hmacKey).update(macInput).digest()
    if (!timingSafeEqual(mac, expected)) throw new Error('invalid header HMAC')
    return fileKey
}

const HEADER_LABEL = Buffer.from('header')

/** age-encryption's Decrypter for the identities node:crypto has no implementation for, or node:crypto alone. */
type Opener = { readonly decrypter: Decrypter; readonly fast?: undefined } | { readonly decrypter?: undefined; readonly fast: readonly Identity[] }

/**
 * Opens a binary age file: the header by {@link openHeaderFast} (node:crypto) or age-encryption's decryptHeader,
 * the payload by age-stream.ts under Go's STREAM rules (its plaintext, of any length, is returned).
 * @throws Error NO_MATCH when no identity unwraps a stanza; any other Error for a damaged file.
 */
const openDataKey = async (opener: Opener, blob: Uint8Array): Promise<Uint8Array> => {
    const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
    const macLine = bytes.indexOf('\n--- ')
    const headerEnd = macLine === -1 ? -1 : bytes.indexOf('\n', macLine + 1)
    // Every age header ends with a `--- ` line after a newline (even with no stanza): without one Go's parser
    // refuses the file before it tries any identity, so the entry is damaged.
    if (headerEnd === -1) throw new Error('invalid header')
    const header = bytes.subarray(0, headerEnd + 1)
    // age-encryption's parser is not Go's (it checks the MAC's length only after an identity matched): hold the
    // header to Go's grammar first on that path too.
    const fileKey = opener.fast ? openHeaderFast(header, opener.fast) : (parseAgeHeader(header), await opener.decrypter.decryptHeader(header))
    return openAgePayload(fileKey, bytes.subarray(headerEnd + 1))
}

// Parsed identities, reused across calls: the loader decrypts the same file with the same key on every change.
const parsedCache = new Map<string, Identity>()

const notAnIdentity = (file: string | undefined, i: number): Error =>
    // Never echo the identity: it is a private key.
    nativeError('NATIVE_NO_MATCHING_IDENTITY', file, `identity #${i + 1} is not an age identity (expected AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…; plugin and SSH identities are not supported natively)`)

const openerFor = async (identities: readonly string[], file: string | undefined): Promise<Opener> => {
    const fastList: (Identity | undefined)[] = identities.map((identity, i) => {
        let fast = parsedCache.get(identity)
        if (!fast) {
            try {
                fast = nodeX25519Identity(identity)
            } catch {
                throw notAnIdentity(file, i)
            }
            if (fast && parsedCache.size < 64) parsedCache.set(identity, fast)
        }
        return fast
    })
    // The node:crypto path only when every identity has a node:crypto implementation (X25519).
    if (fastList.every((f) => f !== undefined)) return { fast: fastList }
    const { Decrypter } = await import('age-encryption')
    const decrypter = new Decrypter()
    identities.forEach((identity, i) => {
        try {
            decrypter.addIdentity(fastList[i] ?? identity)
        } catch {
            throw notAnIdentity(file, i)
        }
    })
    return { decrypter }
}

/**
 * Returns the 32-byte data key from the first age entry one of `identities` opens.
 * @throws KeyfleetError NATIVE_UNSUPPORTED_KEY_SOURCE when the file has no age entry but other key sources;
 *   NATIVE_NO_MATCHING_IDENTITY when no identity opens any entry (or an identity is not an age key);
 *   NATIVE_MALFORMED when a matching entry is damaged or holds something other than a 32-byte key.
 */
export const unwrapDataKey = async (metadata: SopsMetadata, identities: readonly string[], file: string | undefined): Promise<Uint8Array> => {
    // The unwrap is a pure function of (stanza bytes, identities): reuse it when the loader re-reads a file whose
    // data key did not change (sops keeps it across set/edit). Keyed by a hash, so no stanza text is retained.
    const memoKey = createHash('sha256').update(identities.join('\n')).update('\0').update(metadata.age.map((a) => a.enc).join('\0')).digest('hex')
    const memo = dataKeyMemo.get(memoKey)
    if (memo) return memo
    const key = await unwrapUncached(metadata, identities, file)
    if (dataKeyMemo.size >= 32) dataKeyMemo.delete(dataKeyMemo.keys().next().value as string)
    dataKeyMemo.set(memoKey, key)
    return key
}

const dataKeyMemo = new Map<string, Uint8Array>()

/** Forgets memoized data keys (benchmarks measure the cold path with it). */
export const clearDataKeyMemo = (): void => dataKeyMemo.clear()

const unwrapUncached = async (metadata: SopsMetadata, identities: readonly string[], file: string | undefined): Promise<Uint8Array> => {
    if (metadata.age.length === 0) {
        if (metadata.otherKeySources.length > 0) {
            throw nativeError('NATIVE_UNSUPPORTED_KEY_SOURCE', file, `the data key is wrapped only for ${metadata.otherKeySources.join(', ')}; native decryption supports age. Use \`--engine sops\` or add an age recipient to its .sops.yaml rule and run \`keyfleet recipients sync ENV\``)
        }
        throw nativeError('NATIVE_MALFORMED', file, 'the sops metadata lists no key at all; the file is damaged')
    }
    if (identities.length === 0) {
        throw nativeError('NATIVE_NO_MATCHING_IDENTITY', file, `no age identity given; the file is encrypted to ${metadata.age.map((a) => a.recipient).join(', ')}. Pass --identity-file or set SOPS_AGE_KEY / SOPS_AGE_KEY_FILE`)
    }
    const opener = await openerFor(identities, file)
    let damaged: number | undefined
    for (const [index, stanza] of metadata.age.entries()) {
        let blob: Uint8Array
        try {
            // sops reads the entry through age's armor reader (decodeAgeArmor: without the BEGIN line it is
            // damaged, never repaired). No String.prototype.trim() pre-check: its whitespace is not Go's
            // unicode.IsSpace (it keeps U+0085, which Go skips before BEGIN).
            blob = decodeAgeArmor(stanza.enc)
        } catch {
            damaged ??= index
            continue
        }
        let key: Uint8Array
        try {
            key = await openDataKey(opener, blob)
        } catch (error) {
            if (!(error instanceof Error && error.message === NO_MATCH)) damaged ??= index
            continue
        }
        // Like sops: the first entry that opens is the data key (sops.go decryptKeyGroup), whatever its length;
        // sops then fails in crypto/aes.NewCipher unless it is 16, 24 or 32 bytes (aes/cipher.go). Never try the next entry.
        if (![16, 24, 32].includes(key.length)) throw nativeError('NATIVE_MALFORMED', file, `sops.age[${index}] holds a ${key.length}-byte data key; sops uses it as an AES key, which must be 16, 24 or 32 bytes`)
        return key
    }
    if (damaged !== undefined) {
        throw nativeError('NATIVE_MALFORMED', file, `sops.age[${damaged}] (recipient ${metadata.age[damaged]?.recipient ?? '?'}) is damaged and no other entry opens with the given identities`)
    }
    throw nativeError('NATIVE_NO_MATCHING_IDENTITY', file, `none of the ${identities.length} given identities opens the data key; the file is encrypted to ${metadata.age.map((a) => a.recipient).join(', ')}`)
}
