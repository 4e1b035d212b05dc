/**
 * age's ASCII armor (age-encryption.org/v1, "ASCII armor"), decoded with node's Buffer under exactly the
 * rules of age-encryption's `armor.decode` (0.3.x), which sops' entries were read with until now:
 * surrounding whitespace ignored, CRLF or LF, a `BEGIN`/`END AGE ENCRYPTED FILE` line pair, full lines of
 * 64 characters and a last line of 4–64 characters in a multiple of 4, canonical padded base64.
 *
 * Why not the library: importing age-encryption parses its whole graph (post-quantum, P-256, ~200 kB of
 * bundle) in every `keyfleet get`/`run`/`decrypt`, although an X25519 unwrap needs none of it
 * (issue 15). test/sops/native/age-armor.test.ts compares this with age-encryption on seeded mutations.
 */

const BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const END = '-----END AGE ENCRYPTED FILE-----'
const BASE64_LINE = /^[A-Za-z0-9+/=]+$/

/** Armors a binary age file exactly as age-encryption's `armor.encode` does: 48 bytes a line, padded base64, final newline. */
export const encodeAgeArmor = (file: Uint8Array): string => {
    const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength)
    const lines = [`${BEGIN}\n`]
    for (let i = 0; i < bytes.length; i += 48) lines.push(`${bytes.subarray(i, i + 48).toString('base64')}\n`)
    lines.push(`${END}\n`)
    return lines.join('')
}

/**
 * The binary age file inside an armored one.
 * @throws Error for anything age-encryption's `armor.decode` refuses (the message is not part of the contract).
 */
export const decodeAgeArmor = (file: string): Uint8Array => {
    const lines = file.trim().replaceAll('\r\n', '\n').split('\n')
    if (lines.shift() !== BEGIN) throw new Error('invalid header')
    if (lines.pop() !== END) throw new Error('invalid footer')
    const last = lines.length - 1
    // The library's checks in its order (an empty body passes them and decodes to zero bytes there too).
    const lengthOk = lines.every((l, i) => (i === last ? l.length > 0 && l.length <= 64 && l.length % 4 === 0 : l.length === 64))
    if (!lengthOk) throw new Error('invalid line length')
    if (!lines.every((l) => BASE64_LINE.test(l))) throw new Error('invalid base64')
    const text = lines.join('')
    // @scure/base (the library's decoder) takes canonical padded base64 only: `=` at the end and only as
    // padding, zero pad bits. Node's decoder is lenient, so require the re-encoding to give the same text.
    const bytes = Buffer.from(text, 'base64')
    if (bytes.toString('base64') !== text) throw new Error('invalid base64')
    // A plain Uint8Array, as the library returns (Buffer's slice() would share memory).
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
}
