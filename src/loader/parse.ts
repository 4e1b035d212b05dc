/**
 * Plaintext source formats: dotenv and JSON. Both parsers are strict, because a
 * half-written file must fail to parse (and so keep the last good snapshot)
 * rather than yield a partial key set. Errors name the file and line, never
 * the content of the line.
 */
import { VARIABLE_NAME, parseDotenvMap } from '../dotenv.js'
import { LoaderCode, loaderError } from './errors.js'

/**
 * Parses a dotenv source (syntax: src/dotenv.ts, dotenv-compatible; a repeated
 * name, an empty value or `${X}` is refused rather than guessed).
 * @param file - shown in errors.
 * @throws KeyfleetError `LOADER_PARSE_FAILED` naming the first bad line (a line
 *   without `=`, a bad name, an unterminated quote: what a half-written file looks like).
 */
export const parseDotenv = (text: string, file: string): Map<string, string> =>
    parseDotenvMap(text, (line, why) => {
        throw loaderError(LoaderCode.PARSE_FAILED, `${file}:${line}: ${why}; fix the line or write the file atomically (temp file + rename)`, { file, line })
    })

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
        if (!VARIABLE_NAME.test(name)) throw loaderError(LoaderCode.PARSE_FAILED, `${file}: a key name is not a valid variable name`, { file })
        if (typeof value !== 'string') {
            throw loaderError(LoaderCode.PARSE_FAILED, `${file}: the value of ${name} must be a string`, { file })
        }
        out.set(name, value)
    }
    return out
}
