/**
 * Canary helpers: plant a recognisable fake secret and prove it never leaks.
 *
 * `leakForms` lists every form in which a value commonly escapes into logs:
 * raw, base64 (with and without padding, standard and URL alphabet), URL
 * encoding and JSON string escaping. `findLeaks` searches any number of
 * haystacks (stdout, stderr, files, error messages) for each form.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'

/** A fresh canary that passes the OpenAI format rule and is unique per call. */
export const makeCanary = (prefix = 'sk-proj-CANARY'): string =>
    `${prefix}${randomBytes(24).toString('hex')}`

/** Every form of `value` that must not appear anywhere. */
export const leakForms = (value: string): string[] => {
    const b64 = Buffer.from(value).toString('base64')
    const b64url = Buffer.from(value).toString('base64url')
    const forms = new Set<string>([
        value,
        b64,
        b64.replace(/=+$/, ''),
        b64url,
        encodeURIComponent(value),
        JSON.stringify(value).slice(1, -1),
        Buffer.from(value).toString('hex'),
    ])
    return [...forms].filter((form) => form.length >= 8)
}

/** Returns a description of every place a form of `value` occurs, empty when clean. */
export const findLeaks = (value: string, haystacks: Record<string, string | Buffer>): string[] => {
    const found: string[] = []
    for (const [where, content] of Object.entries(haystacks)) {
        const text = typeof content === 'string' ? content : content.toString('latin1')
        for (const form of leakForms(value)) {
            if (text.includes(form)) found.push(`${where} contains ${form === value ? 'the raw value' : 'an encoded form'}`)
        }
    }
    return found
}

/** Reads every regular file under `dir` (recursively, up to `maxBytes` each) into a haystack map, skipping `skip` paths. */
export const filesUnder = (dir: string, skip: (path: string) => boolean = () => false, maxBytes = Infinity): Record<string, Buffer> => {
    const out: Record<string, Buffer> = {}
    const walk = (current: string): void => {
        for (const entry of readdirSync(current)) {
            const path = join(current, entry)
            if (skip(path)) continue
            const st = statSync(path, { throwIfNoEntry: false })
            if (!st) continue
            if (st.isDirectory()) walk(path)
            else if (st.isFile() && st.size <= maxBytes) out[path] = readFileSync(path)
        }
    }
    walk(dir)
    return out
}
