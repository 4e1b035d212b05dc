/**
 * Reading a plain `.env` file for `keyfleet import`: `NAME=value` lines,
 * optional `export `, optional single or double quotes, `#` comments.
 * Errors name the line, never its value.
 */
import { KeyfleetError } from '../errors.js'

/** Parses `.env` text into ordered entries. @throws KeyfleetError `IMPORT_BAD_LINE`, `IMPORT_DUPLICATE`. */
export const parsePlainDotenv = (text: string, file: string): Map<string, string> => {
    const entries = new Map<string, string>()
    text.split(/\r?\n/).forEach((raw, i) => {
        const line = raw.trim()
        if (line === '' || line.startsWith('#')) return
        const body = line.startsWith('export ') ? line.slice(7).trimStart() : line
        const eq = body.indexOf('=')
        if (eq <= 0) throw new KeyfleetError('IMPORT_BAD_LINE', `${file}:${i + 1} is not NAME=value; fix or remove that line`, { file, line: i + 1 })
        const name = body.slice(0, eq).trim()
        let value = body.slice(eq + 1).trim()
        const quote = value[0]
        if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) value = value.slice(1, -1)
        else if (value.includes(' #')) value = value.slice(0, value.indexOf(' #')).trimEnd()
        if (entries.has(name)) throw new KeyfleetError('IMPORT_DUPLICATE', `${file}:${i + 1}: ${JSON.stringify(name.slice(0, 60))} appears twice; keep one`, { file, line: i + 1 })
        entries.set(name, value)
    })
    return entries
}
