/**
 * age's ASCII armor (age-encryption.org/v1, "ASCII armor"), decoded with node's Buffer under exactly the
 * rules of Go's `filippo.io/age/armor` reader (v1.3.1), which sops 3.13.2 reads every age entry with
 * (age/keysource.go: `armor.NewReader`): blank lines before the `BEGIN` line (at most 1024 bytes) and
 * whitespace after the `END` line (less than 1024 bytes) are ignored, `\n` or `\r\n` ends a line, a line
 * holds at most 64 columns of padded base64 in which Go's decoder skips `\r`, and a line that decodes to
 * fewer than 48 bytes must be followed by the `END` line. Go's whitespace is `unicode.IsSpace`.
 *
 * Why not the library: importing age-encryption parses its whole graph (post-quantum, P-256, ~200 kB of
 * bundle) in every `keyfleet get`/`run`/`decrypt`, although an X25519 unwrap needs none of it
 * (issue 15); and its `armor.decode` is laxer than Go's in places (it trims the whole text, so it takes
 * a space after the `END` line or before `BEGIN` on the same line) and stricter in others (a `\r` inside
 * a line), while native decryption must be exactly as strict as sops (issue 14).
 * test/sops/native/age-armor.test.ts and age-cli.test.ts compare this with the age CLI (Go's reader).
 */

import { GO_SPACE_CLASS } from './go-values.js'

const BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const END = '-----END AGE ENCRYPTED FILE-----'
const COLUMNS = 64
const BYTES_PER_LINE = 48
const MAX_WHITESPACE = 1024
// Go's unicode.IsSpace, over the text of a line (invalid UTF-8 never occurs: the entry is a JS string).
const GO_BLANK = new RegExp(`^${GO_SPACE_CLASS}*$`)
// Padded standard base64 once `\r` is skipped; canonical form (zero pad bits) is checked by re-encoding.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Armors a binary age file as age's writers do: 48 bytes a line, padded base64, final newline. */
export const encodeAgeArmor = (file: Uint8Array): string => {
    const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength)
    const lines = [`${BEGIN}\n`]
    for (let i = 0; i < bytes.length; i += BYTES_PER_LINE) lines.push(`${bytes.subarray(i, i + BYTES_PER_LINE).toString('base64')}\n`)
    lines.push(`${END}\n`)
    return lines.join('')
}

/**
 * The binary age file inside an armored one.
 * @throws Error for anything Go's armor reader refuses (the message is not part of the contract).
 */
export const decodeAgeArmor = (file: string): Uint8Array => {
    const src = Buffer.from(file, 'utf8')
    let pos = 0
    // bufio.ReadBytes('\n'), then one trailing "\n" and one trailing "\r" removed.
    const getLine = (): Buffer => {
        if (pos >= src.length) throw new Error('unexpected EOF')
        const nl = src.indexOf(0x0a, pos)
        let line = src.subarray(pos, nl === -1 ? src.length : nl)
        pos = nl === -1 ? src.length : nl + 1
        if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1)
        return line
    }
    const blank = (bytes: Buffer): boolean => GO_BLANK.test(bytes.toString('utf8'))
    const drainTrailing = (): void => {
        const rest = src.subarray(pos, pos + MAX_WHITESPACE)
        if (!blank(rest)) throw new Error('trailing data after armored file')
        if (rest.length === MAX_WHITESPACE) throw new Error('too much trailing whitespace')
    }
    let removed = 0
    for (;;) {
        const line = getLine()
        if (blank(line)) {
            removed += line.length + 1
            if (removed > MAX_WHITESPACE) throw new Error('too much leading whitespace')
            continue
        }
        if (line.toString('latin1') !== BEGIN) throw new Error('invalid first line')
        break
    }
    const out: Buffer[] = []
    for (;;) {
        const line = getLine()
        if (line.toString('latin1') === END) { drainTrailing(); break }
        if (line.length === 0) throw new Error('empty line in armored data')
        if (line.length > COLUMNS) throw new Error('column limit exceeded')
        const text = line.toString('latin1').replaceAll('\r', '')
        if (text.length % 4 !== 0 || !BASE64.test(text)) throw new Error('illegal base64 data')
        const bytes = Buffer.from(text, 'base64')
        if (bytes.toString('base64') !== text) throw new Error('illegal base64 data')
        out.push(bytes)
        if (bytes.length < BYTES_PER_LINE) {
            if (getLine().toString('latin1') !== END) throw new Error('invalid closing line')
            drainTrailing()
            break
        }
    }
    const all = Buffer.concat(out)
    // A plain Uint8Array, not a Buffer (whose slice() would share memory).
    return new Uint8Array(all.buffer, all.byteOffset, all.length)
}
