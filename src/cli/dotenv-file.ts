/**
 * Reading a plain `.env` file for `keyfleet import` (syntax: src/dotenv.ts, the
 * dotenv-compatible parser the loader uses too). Errors name the line, never its value.
 */
import { parseDotenvMap } from '../dotenv.js'
import { KeyfleetError } from '../errors.js'

/**
 * Parses `.env` bytes into ordered entries.
 * @throws KeyfleetError `IMPORT_NOT_UTF8`, `IMPORT_BAD_LINE`, `IMPORT_DUPLICATE`, `VALUE_EMPTY`.
 */
export const parsePlainDotenv = (bytes: Uint8Array | string, file: string): Map<string, string> => {
    let text: string
    try {
        text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
        throw new KeyfleetError('IMPORT_NOT_UTF8', `${file} is not valid UTF-8; convert it (e.g. \`iconv -t UTF-8\`) and import again (nothing was imported)`, { file })
    }
    return parseDotenvMap(text, (line, why, kind) => {
        const code = kind === 'duplicate' ? 'IMPORT_DUPLICATE' : kind === 'empty' ? 'VALUE_EMPTY' : 'IMPORT_BAD_LINE'
        throw new KeyfleetError(code, `${file}:${line}: ${why}; fix or remove that line (nothing was imported)`, { file, line })
    })
}
