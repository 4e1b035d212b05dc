/**
 * Plain `.env` text (not SOPS), read the way the `dotenv` package (17.x,
 * `lib/main.js`) reads it, so that a file an application already loads with
 * dotenv gives keyfleet the same names and values:
 *
 * - `NAME=value` or `NAME: value`, optional `export `, leading whitespace;
 *   CRLF and lone CR count as line ends; a leading BOM is whitespace.
 * - Unquoted values end at the first `#` (with or without a space before it)
 *   and are trimmed; backslashes are literal.
 * - single-, double- and backtick-quoted values may span lines and may be followed by
 *   whitespace and a `#` comment; only inside double quotes are `\n` and `\r`
 *   expanded (every other backslash, `\"` included, is kept as written).
 *
 * Where dotenv would silently skip a line, pick the last of two values, store
 * an empty value, leave `${X}` for a later expansion step, or turn a missing
 * closing quote into part of the value, keyfleet refuses with the line number
 * and a {@link DotenvRefusal} kind (docs/authoring.md lists them). No
 * dependencies, so the loader ships with it.
 */

/** One `NAME=value` entry. */
export interface DotenvEntry {
    readonly name: string
    readonly value: string
    /** 1-based line where the entry starts. */
    readonly line: number
}

/** Why a file was refused: each one a place where dotenv would have guessed or silently dropped something. */
export type DotenvRefusal =
    | 'syntax' // not a NAME=value line (dotenv skips it)
    | 'name' // dotenv accepts it, but it is not a variable name (leading digit, `-`, `.`)
    | 'unterminated' // a quote that never closes (dotenv keeps the quote as part of the value)
    | 'after-quote' // text after the closing quote (dotenv falls back to reading the line unquoted)
    | 'empty' // dotenv gives "" (e.g. `KEY=` or `KEY= # fill me in`)
    | 'duplicate' // dotenv keeps the last one
    | 'interpolation' // `${X}`: dotenv keeps it literally, dotenv-expand substitutes it
    | 'line-separator' // U+2028/U+2029 outside quotes: JavaScript line ends inside dotenv's regular expression

/** How a caller turns a bad line into its own typed error; `why` never contains the line's content. */
export type DotenvFailure = (line: number, why: string, kind: DotenvRefusal) => never

/** Names a dotenv (or flat JSON) source may use. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/

// dotenv's name and separator: `[\w.-]+`, then `=` (spaces around it) or `:` followed by whitespace.
const HEAD = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:(?=\s))/
// What may follow a closing quote on its line: whitespace and a comment.
const AFTER_QUOTE = /^\s*(?:#.*)?$/

const WHY: Record<DotenvRefusal, string> = {
    syntax: 'not a NAME=value line',
    name: 'the name is not a valid variable name (letters, digits, _ . -, not starting with a digit)',
    unterminated: 'unterminated quoted value',
    'after-quote': 'text after the closing quote',
    empty: 'empty value (keyfleet stores no empty keys: fill it in or remove the line)',
    duplicate: 'the name appears twice (keep one)',
    interpolation: '${…} interpolation is not supported: write the value out, or single-quote it to keep it literally',
    'line-separator': 'U+2028/U+2029 outside quotes: quote the value',
}

/** Index of the line end (`\n`) at or after `from`, or the text length. */
const lineEnd = (text: string, from: number): number => {
    const at = text.indexOf('\n', from)
    return at < 0 ? text.length : at
}

/**
 * Where a quoted value opened at `open` closes, in the order dotenv's regular
 * expression tries: the first quote not preceded by a backslash, then each
 * backslash-quote pair from the last to the first. A candidate is taken when
 * the rest of its line is whitespace and an optional comment.
 * @returns the index of the closing quote, or -1 and whether any closing quote exists.
 */
const closeQuote = (text: string, open: number): { close: number; anyQuote: boolean } => {
    const q = text[open] as string
    const escaped: number[] = []
    let bare = -1
    for (let j = open + 1; j < text.length; j++) {
        const c = text[j]
        if (c === '\\' && text[j + 1] === q) { escaped.push(j + 1); j++; continue }
        if (c === q) { bare = j; break }
    }
    const candidates = [...(bare >= 0 ? [bare] : []), ...escaped.reverse()]
    for (const close of candidates) {
        if (AFTER_QUOTE.test(text.slice(close + 1, lineEnd(text, close + 1)))) return { close, anyQuote: true }
    }
    return { close: -1, anyQuote: candidates.length > 0 }
}

/**
 * Parses dotenv text into its entries, in file order.
 * @param fail - called with the 1-based line, the reason and its kind for the first
 *   refused line; it must throw.
 */
export const parseDotenvEntries = (input: string, fail: DotenvFailure): DotenvEntry[] => {
    const text = input.replace(/\r\n?/g, '\n')
    const entries: DotenvEntry[] = []
    const seen = new Set<string>()
    let pos = 0
    let line = 1
    const refuse = (kind: DotenvRefusal): never => fail(line, WHY[kind], kind)
    while (pos < text.length) {
        const end = lineEnd(text, pos)
        const raw = text.slice(pos, end)
        const trimmed = raw.trim()
        if (trimmed === '' || trimmed.startsWith('#')) { pos = end + 1; line++; continue }
        const head = HEAD.exec(raw)
        if (!head) refuse(/[\u2028\u2029]/.test(raw) ? 'line-separator' : 'syntax')
        const name = (head as RegExpExecArray)[1] as string
        if (!VARIABLE_NAME.test(name)) refuse('name')
        if (seen.has(name)) refuse('duplicate')
        const valueStart = pos + (head as RegExpExecArray)[0].length
        const lead = /^\s*/.exec(text.slice(valueStart, end)) as RegExpExecArray
        const open = valueStart + lead[0].length
        const quote = text[open]
        let value: string
        let next: number
        if (open < end && (quote === '\'' || quote === '"' || quote === '`')) {
            const { close, anyQuote } = closeQuote(text, open)
            if (close < 0) refuse(anyQuote ? 'after-quote' : 'unterminated')
            value = text.slice(open + 1, close)
            if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r')
            if (quote !== '\'' && value.includes('${')) refuse('interpolation')
            next = lineEnd(text, close + 1)
        } else {
            const rest = text.slice(valueStart, end)
            if (/[\u2028\u2029]/.test(rest)) refuse('line-separator')
            const hash = rest.indexOf('#')
            value = (hash < 0 ? rest : rest.slice(0, hash)).trim()
            if (value.includes('${')) refuse('interpolation')
            next = end
        }
        if (value === '') refuse('empty')
        seen.add(name)
        entries.push({ name, value, line })
        for (let j = pos; j < next; j++) if (text[j] === '\n') line++
        pos = next + 1
        line++
    }
    return entries
}

/**
 * {@link parseDotenvEntries} as a map (names are unique: a repeated name is refused).
 * @param fail - as for parseDotenvEntries.
 */
export const parseDotenvMap = (text: string, fail: DotenvFailure): Map<string, string> =>
    new Map(parseDotenvEntries(text, fail).map((e) => [e.name, e.value]))
