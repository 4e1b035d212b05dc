/**
 * age's header grammar (age-encryption.org/v1), under exactly the rules of Go's
 * `filippo.io/age/internal/format` Parse (v1.3.1, what sops 3.13.2 links): the `age-encryption.org/v1`
 * line; stanzas `-> TYPE ARGS…` whose arguments are non-empty runs of ASCII 33–126 split by single spaces,
 * with bodies of canonical unpadded base64 in lines of 64 columns (48 bytes) ending with a shorter, maybe
 * empty, one; and the `--- MAC` line holding exactly 32 bytes. Everything here is checked before any
 * identity is tried, as Go does, so a damaged header is never reported as "no identity matched".
 * test/sops/native/age-header-grammar.test.ts holds it to the age CLI on forged headers with valid MACs.
 */

/** A parsed stanza in age-encryption's shape: `args[0]` is the type. */
export interface AgeStanzaParts { readonly args: string[]; readonly body: Uint8Array }

/** A parsed header: its stanzas, its MAC and the bytes the MAC covers (up to and including `---`). */
export interface AgeHeader { readonly stanzas: AgeStanzaParts[]; readonly mac: Buffer; readonly macInput: Buffer }

// Unpadded canonical base64 (Go's base64.RawStdEncoding.Strict(), format.DecodeString).
const base64NoPad = (text: string): Buffer => {
    if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) throw new Error('invalid base64')
    const bytes = Buffer.from(text, 'base64')
    if (bytes.toString('base64').replace(/=+$/, '') !== text) throw new Error('invalid base64')
    return bytes
}

/**
 * Parses `header`, the bytes of an age file up to and including the newline that ends its `--- ` line.
 * @throws Error for anything Go's format.Parse refuses (the message is not part of the contract).
 */
export const parseAgeHeader = (header: Buffer): AgeHeader => {
    const lines = header.subarray(0, header.length - 1).toString('latin1').split('\n')
    // Every rule below only admits printable ASCII (Go: exact intro, isValidString, base64), so refuse the rest first.
    for (const line of lines) for (let i = 0; i < line.length; i++) { const c = line.charCodeAt(i); if (c < 32 || c > 126) throw new Error('invalid header') }
    if (lines[0] !== 'age-encryption.org/v1') throw new Error('invalid version')
    const stanzas: AgeStanzaParts[] = []
    let i = 1
    for (;;) {
        const line = lines[i++]
        if (line === undefined) throw new Error('invalid stanza')
        const args = line.split(' ')
        if (args.length < 2 || args.shift() !== '->') {
            if (!line.startsWith('--- ') || i !== lines.length) throw new Error('invalid header')
            const mac = base64NoPad(line.slice(4))
            // format.Parse: `len(h.MAC) != 32` is a malformed closing line, before decryptHdr tries identities.
            if (mac.length !== 32) throw new Error('invalid header')
            return { stanzas, mac, macInput: header.subarray(0, header.length - 1 - line.length + 3) }
        }
        if (args.some((a) => a.length === 0)) throw new Error('invalid stanza')
        const body: Buffer[] = []
        for (;;) {
            const next = lines[i++]
            if (next === undefined) throw new Error('invalid stanza')
            const chunk = base64NoPad(next)
            if (chunk.length > 48) throw new Error('invalid stanza')
            body.push(chunk)
            if (chunk.length < 48) break
        }
        stanzas.push({ args, body: Buffer.concat(body) })
    }
}
