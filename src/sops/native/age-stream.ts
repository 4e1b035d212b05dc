/**
 * age's payload (age-encryption.org/v1, "Payload"): a 16-byte nonce, then the plaintext in STREAM chunks of
 * 64 KiB sealed with ChaCha20-Poly1305 under HKDF-SHA-256(file key, nonce, "payload"), the chunk counter
 * in the first 11 bytes of the AEAD nonce and the last chunk flagged in the 12th. Opened under exactly the
 * rules of Go's `filippo.io/age/internal/stream` DecryptReader (v1.3.1), which sops 3.13.2 reads every data
 * key through (age/keysource.go: `age.Decrypt` then `io.Copy`): any plaintext length opens, as it does
 * there; the caller decides what a data key of that length means (sops hands it to crypto/aes).
 */
import { createDecipheriv, hkdfSync } from 'node:crypto'

const CHUNK = 64 * 1024
const TAG = 16
const ENC_CHUNK = CHUNK + TAG
const NONCE = 16
const PAYLOAD_LABEL = Buffer.from('payload')

const openChunk = (key: Buffer, counter: number, last: boolean, chunk: Buffer): Buffer | undefined => {
    if (chunk.length < TAG) return undefined
    const nonce = Buffer.alloc(12)
    nonce.writeBigUInt64BE(BigInt(counter), 3)
    nonce[11] = last ? 1 : 0
    try {
        const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG })
        d.setAuthTag(chunk.subarray(chunk.length - TAG))
        return Buffer.concat([d.update(chunk.subarray(0, chunk.length - TAG)), d.final()])
    } catch {
        return undefined
    }
}

/**
 * The plaintext of an age payload (everything after the header's MAC line).
 * @throws Error where Go's age fails to read it: no 16-byte nonce, a chunk that does not authenticate,
 *   a missing last chunk, an empty last chunk after others, or data after the last chunk.
 */
export const openAgePayload = (fileKey: Uint8Array, payload: Buffer): Buffer => {
    // age.go Decrypt: io.ReadFull of the nonce.
    if (payload.length < NONCE) throw new Error('invalid payload')
    const key = Buffer.from(hkdfSync('sha256', fileKey, payload.subarray(0, NONCE), PAYLOAD_LABEL, 32))
    const out: Buffer[] = []
    let pos = NONCE
    for (let counter = 0; ; counter++) {
        // readChunk: io.EOF where a chunk belongs means the message ended without a last chunk.
        if (pos === payload.length) throw new Error('invalid payload')
        const chunk = payload.subarray(pos, pos + ENC_CHUNK)
        pos += chunk.length
        let last = chunk.length < ENC_CHUNK
        // "The last chunk can be short, but not empty unless it's the first and only chunk."
        if (last && counter > 0 && chunk.length === TAG) throw new Error('invalid payload')
        let plain = openChunk(key, counter, last, chunk)
        // A full-length chunk may be the last one: Go retries it with the flag.
        if (plain === undefined && !last) { last = true; plain = openChunk(key, counter, true, chunk) }
        if (plain === undefined) throw new Error('invalid payload')
        out.push(plain)
        if (last) {
            // DecryptReader.Read: "trailing data after end of encrypted file".
            if (pos !== payload.length) throw new Error('invalid payload')
            return out.length === 1 ? plain : Buffer.concat(out)
        }
    }
}
