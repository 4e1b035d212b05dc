/**
 * Reading keys.txt-style identity files (`# comments`, one `AGE-SECRET-KEY-1…` or
 * `AGE-SECRET-KEY-PQ-1…` per line) without loading age-encryption, so that a CLI path
 * that only locates identities starts fast (issue 15). Re-exported by identity.ts.
 */
import { KeyfleetError } from '../errors.js'

const IDENTITY = /^AGE-SECRET-KEY-(PQ-)?1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]+$/

/** True when the line is syntactically an age secret key. */
export const isIdentity = (value: string): boolean => IDENTITY.test(value)

/**
 * Identities in a keys.txt-format text (age's grammar): empty lines and lines starting with `#` skipped, every other line one identity.
 * @param file - shown in errors.
 * @throws KeyfleetError `AGE_BAD_IDENTITY_FILE` naming the line (never its content) when a line is not an identity,
 *   or when the text holds no identity at all.
 */
export const parseIdentityFile = (text: string, file = 'identity file'): string[] => {
    const identities: string[] = []
    // age's grammar exactly as sops reads it (bufio.ScanLines): a trailing \r dropped, nothing trimmed; an
    // indented comment, a blank-looking line of spaces or a trailing word is an error, as in sops.
    text.split('\n').forEach((raw, index) => {
        const line = raw.replace(/\r$/, '')
        if (line === '' || line.startsWith('#')) return
        if (!isIdentity(line)) {
            throw new KeyfleetError('AGE_BAD_IDENTITY_FILE', `${file}:${index + 1} is not an age identity (expected AGE-SECRET-KEY-1… alone on the line, or a # comment at the start of a line; no leading or trailing spaces). Plugin and passphrase-protected identities are not supported.`, { file, line: index + 1 })
        }
        identities.push(line)
    })
    if (identities.length === 0) {
        throw new KeyfleetError('AGE_BAD_IDENTITY_FILE', `${file} holds no age identity; create one with \`keyfleet keygen\``, { file })
    }
    return identities
}
