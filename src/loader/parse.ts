/**
 * Plaintext source formats: dotenv and JSON. Both parsers are strict, because a
 * half-written file must fail to parse (and so keep the last good snapshot)
 * rather than yield a partial key set. Errors name the file and line, never
 * the content of the line.
 */
import { LoaderCode, loaderError } from './errors.js'

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const LINE = /^\s*(?:export\s+)?([^=\s]+)\s*=(.*)$/

const unescapeDouble = (body: string): string =>
    body.replace(/\\([nrt"\\$])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c))

/**
 * Parses a dotenv text: `NAME=value`, optional `export `, `#` comments, blank
 * lines, single- or double-quoted values (double quotes understand `\n`, `\t`,
 * `\"`, `\\`), and ` # comment` after an unquoted value.
 * @param file - shown in errors.
 * @throws KeyfleetError `LOADER_PARSE_FAILED` naming the first bad line (a line
 *   without `=`, a bad name, an unterminated quote): what a half-written file looks like.
 */
export const parseDotenv = (text: string, file: string): Map<string, string> => {
    const out = new Map<string, string>()
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
        const raw = (lines[i] as string).replace(/\r$/, '')
        const trimmed = raw.trim()
        if (trimmed === '' || trimmed.startsWith('#')) continue
        const match = LINE.exec(raw)
        const fail = (why: string): never => {
            throw loaderError(LoaderCode.PARSE_FAILED, `${file}:${i + 1}: ${why}; fix the line or write the file atomically (temp file + rename)`, { file, line: i + 1 })
        }
        if (!match) fail('not a NAME=value line')
        const name = (match as RegExpExecArray)[1] as string
        if (!NAME.test(name)) fail('the name is not a valid variable name')
        let value = ((match as RegExpExecArray)[2] as string).trim()
        const quote = value[0]
        if (quote === '"' || quote === '\'') {
            const end = value.indexOf(quote, 1)
            let close = end
            if (quote === '"') {
                // Skip escaped quotes inside double-quoted values.
                close = -1
                for (let j = 1; j < value.length; j++) {
                    if (value[j] === '\\') { j++; continue }
                    if (value[j] === '"') { close = j; break }
                }
            }
            if (close < 0) fail('unterminated quoted value')
            const rest = value.slice(close + 1).trim()
            if (rest !== '' && !rest.startsWith('#')) fail('text after the closing quote')
            const body = value.slice(1, close)
            value = quote === '"' ? unescapeDouble(body) : body
        } else {
            value = value.replace(/\s+#.*$/, '')
        }
        out.set(name, value)
    }
    return out
}

/**
 * Parses a JSON source: a flat object of string values, or a keyfleet bundle
 * payload (`{"keyfleet":"bundle/v1", …, "keys":{…}}`), whose `keys` are used.
 * @throws KeyfleetError `LOADER_PARSE_FAILED` when the text is not JSON (a
 *   half-written file), not an object, or holds a non-string value (named by key).
 */
export const parseJsonSource = (text: string, file: string): Map<string, string> => {
    let doc: unknown
    try {
        doc = JSON.parse(text)
    } catch {
        // The SyntaxError message quotes the text around the error: never pass it on.
        throw loaderError(LoaderCode.PARSE_FAILED, `${file} is not valid JSON (half-written?); write it atomically (temp file + rename)`, { file })
    }
    return keysOfObject(doc, file)
}

/**
 * The key map of an already-parsed JSON document (flat object or bundle payload).
 * @throws KeyfleetError `LOADER_PARSE_FAILED` as for {@link parseJsonSource}.
 */
export const keysOfObject = (doc: unknown, file: string): Map<string, string> => {
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
    if (!isObject(doc)) throw loaderError(LoaderCode.PARSE_FAILED, `${file} must hold a JSON object of NAME: "value" pairs`, { file })
    let keys: Record<string, unknown> = doc
    if (typeof doc.keyfleet === 'string') {
        if (doc.keyfleet !== 'bundle/v1') {
            throw loaderError(LoaderCode.PARSE_FAILED, `${file} is a keyfleet bundle of an unknown version; upgrade keyfleet`, { file })
        }
        if (!isObject(doc.keys)) throw loaderError(LoaderCode.PARSE_FAILED, `${file}: bundle/v1 has no "keys" object; re-render the bundle`, { file })
        keys = doc.keys
    }
    const out = new Map<string, string>()
    for (const [name, value] of Object.entries(keys)) {
        if (!NAME.test(name)) throw loaderError(LoaderCode.PARSE_FAILED, `${file}: a key name is not a valid variable name`, { file })
        if (typeof value !== 'string') {
            throw loaderError(LoaderCode.PARSE_FAILED, `${file}: the value of ${name} must be a string`, { file })
        }
        out.set(name, value)
    }
    return out
}
