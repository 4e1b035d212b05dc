/**
 * Masking: every decrypted value, and every form of it that commonly reaches
 * a log, is registered with the runner (`::add-mask::`) before anything else
 * runs. The runner only masks what it was told about, and only in output
 * printed after it was told, so this module is called first and is total.
 *
 * Which forms, and why:
 * - the value itself, whatever its length (a short secret is still a secret;
 *   the cost is over-masking, documented in docs/github-action.md);
 * - each non-blank line: a multi-line value printed line by line would
 *   otherwise escape (runner#161, GHSA-4mgv-m5cm-f9h7);
 * - base64, standard and URL alphabet, with and without padding: what a
 *   `kubectl get secret -o yaml` or a debug dump prints;
 * - base64 of the value at each of the three byte alignments, trimmed to the
 *   characters that depend on the value alone: `base64(prefix + value)` does
 *   not contain `base64(value)` unless the prefix length is a multiple of 3
 *   (runner#284, #291);
 * - URL encoding (`encodeURIComponent`), JSON string escaping and lowercase
 *   hex, when they differ from the value.
 */

/** Aligned base64 fragments shorter than this are not masked: they are a character or two of noise that would mask unrelated text everywhere. */
export const MIN_FRAGMENT_LENGTH = 4

const b64 = (bytes: Buffer, alphabet: 'base64' | 'base64url'): string => bytes.toString(alphabet)

/**
 * The part of `base64(k zero bytes + value)` that depends only on the value:
 * characters after the prefix's last bit and before the first bit that
 * whatever follows the value could change.
 */
const alignedFragment = (value: Buffer, k: 0 | 1 | 2, alphabet: 'base64' | 'base64url'): string => {
    const encoded = b64(Buffer.concat([Buffer.alloc(k), value]), alphabet)
    const start = Math.ceil((8 * k) / 6)
    const end = Math.floor((8 * (k + value.length)) / 6)
    return end > start ? encoded.slice(start, end) : ''
}

/**
 * Every string that must be masked for `value`, the value itself first,
 * without duplicates or empty strings.
 *
 * Pure: no I/O. An empty value yields an empty list (there is nothing to
 * hide, and `::add-mask::` with nothing would be ignored).
 *
 * @param value - A decrypted secret value (or an age identity).
 * @returns The value, its non-blank lines, and its encoded forms.
 */
export const maskForms = (value: string): string[] => {
    if (value === '') return []
    const forms = new Set<string>([value])
    for (const line of value.split(/\r\n|\r|\n/)) {
        if (line.trim() !== '') forms.add(line)
    }
    const bytes = Buffer.from(value, 'utf8')
    for (const alphabet of ['base64', 'base64url'] as const) {
        const full = b64(bytes, alphabet)
        forms.add(full)
        forms.add(full.replace(/=+$/, ''))
        for (const k of [0, 1, 2] as const) {
            const fragment = alignedFragment(bytes, k, alphabet)
            if (fragment.length >= MIN_FRAGMENT_LENGTH) forms.add(fragment)
        }
    }
    forms.add(encodeURIComponent(value))
    forms.add(JSON.stringify(value).slice(1, -1))
    forms.add(bytes.toString('hex'))
    return [...forms].filter((form) => form !== '')
}

/** The one operation masking needs; `core.setSecret` in the action, a recorder in tests. */
export type SetSecret = (secret: string) => void

/**
 * Masks every form of every value, in the order given, and returns how many
 * mask commands were issued. Call it before any other output of the step.
 *
 * @param values - Decrypted values (a Map's values, an identity list, ...).
 * @param setSecret - Issues one mask; must not throw for any string.
 */
export const maskAll = (values: Iterable<string>, setSecret: SetSecret): number => {
    const done = new Set<string>()
    for (const value of values) {
        for (const form of maskForms(value)) {
            if (done.has(form)) continue
            done.add(form)
            setSecret(form)
        }
    }
    return done.size
}

/**
 * Wraps `setSecret` so each distinct string is sent once per process: the
 * same value is met again when a later step of the command decrypts it, and
 * repeating the mask only lengthens the log.
 */
export const onceEach = (setSecret: SetSecret): SetSecret => {
    const sent = new Set<string>()
    return (secret) => {
        if (sent.has(secret)) return
        sent.add(secret)
        setSecret(secret)
    }
}
