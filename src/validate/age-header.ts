/**
 * Reading an age file's header without any key: armor, the
 * `age-encryption.org/v1` version line, the recipient stanzas and the header
 * MAC line. This is all a key-less check (a pull request) can verify about a
 * proposal; whether the payload opens is the keyed fold's job. It lives in
 * validate (not lifecycle) because the key-less PR check uses it and
 * validate may import only sops/ and catalog/ (DESIGN.md).
 */
// Armor rules of age-encryption without loading it (issue 15): sops/native/age-armor.ts.
import { decodeAgeArmor } from '../sops/native/age-armor.js'

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----'
const VERSION_LINE = 'age-encryption.org/v1'
// The payload is a 16-byte nonce plus at least one chunk with its 16-byte tag.
const MIN_PAYLOAD = 32
const STANZA_ARG = /^[\x21-\x7e]+$/
const B64_LINE = /^[A-Za-z0-9+/]*$/

/** One recipient stanza: its type (`X25519`, `mlkem768x25519`, `scrypt`, ...) and arguments. */
export interface AgeStanzaHeader {
    readonly type: string
    readonly args: readonly string[]
}

/** The result of {@link inspectAgeFile}: the stanzas, or why the file is not a well-formed age file. */
export type AgeInspection =
    | { readonly ok: true; readonly stanzas: readonly AgeStanzaHeader[]; readonly binary: Uint8Array }
    | { readonly ok: false; readonly reason: string }

const fail = (reason: string): AgeInspection => ({ ok: false, reason })

/** Reads one `\n`-terminated header line starting at `offset`; undefined at the end of the data. */
const readLine = (data: Uint8Array, offset: number): { line: string; next: number } | undefined => {
    const end = data.indexOf(0x0a, offset)
    if (end < 0) return undefined
    return { line: Buffer.from(data.subarray(offset, end)).toString('latin1'), next: end + 1 }
}

/**
 * Checks that `text` is an armored age v1 file and lists its stanzas. Never
 * throws and never decrypts; the reason strings describe structure only (they
 * never quote the file's content).
 */
export const inspectAgeFile = (text: string): AgeInspection => {
    const trimmed = text.trim()
    if (!trimmed.startsWith(ARMOR_BEGIN)) return fail(`does not start with "${ARMOR_BEGIN}" (proposals are armored age files)`)
    if (!trimmed.endsWith(ARMOR_END)) return fail(`does not end with "${ARMOR_END}"`)
    let binary: Uint8Array
    try {
        binary = decodeAgeArmor(`${trimmed}\n`)
    } catch {
        return fail('the armor is damaged (bad base64, line length or padding)')
    }
    const first = readLine(binary, 0)
    if (first?.line !== VERSION_LINE) return fail(`the header does not start with "${VERSION_LINE}"`)
    const stanzas: AgeStanzaHeader[] = []
    let offset = first.next
    for (;;) {
        const current = readLine(binary, offset)
        if (!current) return fail('the header ends without its "---" MAC line')
        offset = current.next
        if (current.line.startsWith('--- ')) {
            if (!/^--- [A-Za-z0-9+/]{43}$/.test(current.line)) return fail('the header MAC line is malformed')
            break
        }
        if (!current.line.startsWith('-> ')) return fail('the header has a line that is neither a stanza ("-> ") nor the MAC ("--- ")')
        const [type, ...args] = current.line.slice(3).split(' ')
        if (type === undefined || !STANZA_ARG.test(type) || !args.every((arg) => STANZA_ARG.test(arg))) return fail('a recipient stanza has a malformed type or argument')
        // The stanza body: base64 lines of 64 characters, ended by a shorter (possibly empty) one.
        for (;;) {
            const body = readLine(binary, offset)
            if (!body) return fail('a recipient stanza body is cut off')
            offset = body.next
            if (body.line.length > 64 || !B64_LINE.test(body.line)) return fail('a recipient stanza body is not base64 in 64-column lines')
            if (body.line.length < 64) break
        }
        stanzas.push({ type, args })
    }
    if (stanzas.length === 0) return fail('the header has no recipient stanza')
    if (binary.length - offset < MIN_PAYLOAD) return fail('the encrypted payload is missing or too short')
    return { ok: true, stanzas, binary }
}
