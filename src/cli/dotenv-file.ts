/**
 * Reading a plain `.env` file for `keyfleet import` (syntax: src/dotenv.ts, the
 * parser the loader uses too). Errors name the line, never its value.
 */
import { parseDotenvEntries } from '../dotenv.js'
import { KeyfleetError } from '../errors.js'

/** Parses `.env` text into ordered entries. @throws KeyfleetError `IMPORT_BAD_LINE`, `IMPORT_DUPLICATE`. */
export const parsePlainDotenv = (text: string, file: string): Map<string, string> => {
    const entries = new Map<string, string>()
    const parsed = parseDotenvEntries(text, (line, why) => {
        throw new KeyfleetError('IMPORT_BAD_LINE', `${file}:${line}: ${why}; fix or remove that line (nothing was imported)`, { file, line })
    })
    for (const { name, value, line } of parsed) {
        if (entries.has(name)) throw new KeyfleetError('IMPORT_DUPLICATE', `${file}:${line}: ${name} appears twice; keep one`, { file, line })
        entries.set(name, value)
    }
    return entries
}
