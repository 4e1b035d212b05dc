/**
 * Plain `.env` text (not SOPS): `NAME=value`, optional `export `, `#`
 * comments, blank lines, single- or double-quoted values (double quotes
 * understand `\n`, `\t`, `\"`, `\\`), and ` # comment` after an unquoted
 * value. Strict, because a half-written file must fail rather than yield a
 * partial key set. Shared by the loader (dotenv sources) and `keyfleet import`;
 * no dependencies, so the loader ships with it.
 */

/** One `NAME=value` line. */
export interface DotenvEntry {
    readonly name: string
    readonly value: string
    /** 1-based line. */
    readonly line: number
}

/** How a caller turns a bad line into its own typed error; `why` never contains the line's content. */
export type DotenvFailure = (line: number, why: string) => never

/** Names a dotenv (or flat JSON) source may use. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const LINE = /^\s*(?:export\s+)?([^=\s]+)\s*=(.*)$/

const unescapeDouble = (body: string): string =>
    body.replace(/\\([nrt"\\$])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c))

/** The value of one line after the `=`: quotes removed, escapes undone, trailing comment dropped. */
const valueOf = (raw: string, fail: (why: string) => never): string => {
    const value = raw.trim()
    const quote = value[0]
    if (quote !== '"' && quote !== '\'') return value.replace(/\s+#.*$/, '')
    let close = -1
    for (let j = 1; j < value.length; j++) {
        // Double quotes understand escapes, so an escaped quote does not close the value.
        if (quote === '"' && value[j] === '\\') { j++; continue }
        if (value[j] === quote) { close = j; break }
    }
    if (close < 0) fail('unterminated quoted value')
    const rest = value.slice(close + 1).trim()
    if (rest !== '' && !rest.startsWith('#')) fail('text after the closing quote')
    const body = value.slice(1, close)
    return quote === '"' ? unescapeDouble(body) : body
}

/**
 * Parses dotenv text into its entries, in file order (a repeated name appears twice).
 * @param fail - called with the 1-based line and the reason for the first bad line
 *   (no `=`, a bad name, an unterminated quote); it must throw.
 */
export const parseDotenvEntries = (text: string, fail: DotenvFailure): DotenvEntry[] => {
    const entries: DotenvEntry[] = []
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
        const raw = (lines[i] as string).replace(/\r$/, '')
        const trimmed = raw.trim()
        if (trimmed === '' || trimmed.startsWith('#')) continue
        const lineFail = (why: string): never => fail(i + 1, why)
        const match = LINE.exec(raw)
        if (!match) lineFail('not a NAME=value line')
        const name = (match as RegExpExecArray)[1] as string
        if (!VARIABLE_NAME.test(name)) lineFail('the name is not a valid variable name')
        entries.push({ name, value: valueOf((match as RegExpExecArray)[2] as string, lineFail), line: i + 1 })
    }
    return entries
}
