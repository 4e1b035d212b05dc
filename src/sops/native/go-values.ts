/**
 * Go's text forms of sops' scalar types (strconv and time), so that MAC bytes
 * and printed values match the Go implementation byte for byte.
 */

/** Go's `unicode.IsSpace` as a regex character class (what `strings.Fields` and `bytes.TrimSpace` split and trim on). */
export const GO_SPACE_CLASS = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'

/** `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent. */
export const formatFloatF = (v: number): string => {
    if (Number.isNaN(v)) return 'NaN'
    if (v === Infinity) return '+Inf'
    if (v === -Infinity) return '-Inf'
    if (Object.is(v, -0)) return '-0'
    const sign = v < 0 ? '-' : ''
    // toExponential() without an argument gives the shortest round-trip digits, like Go's -1 precision.
    const [mantissa = '0', exp = '0'] = Math.abs(v).toExponential().split('e')
    const digits = mantissa.replace('.', '')
    const point = Number(exp) + 1
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
    if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}

/** Go's float formatting with `'g'`-like exponent rules, as json.Marshal and yaml.v3 print float64. */
export const formatFloatJson = (v: number): string => {
    // encoding/json uses 'f' unless the exponent is < -6 or >= 21, then 'e' with a two-digit-minimum exponent trimmed.
    const abs = Math.abs(v)
    // JavaScript's Number#toString switches to exponents at exactly the same bounds and spells them alike (1e+21, 1e-7).
    if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) return String(v)
    return formatFloatF(v)
}

/** yaml.v3's float form: `FormatFloat(v, 'g', -1, 64)` plus `.inf`/`.nan`. */
export const formatFloatYaml = (v: number): string => {
    if (Number.isNaN(v)) return '.nan'
    if (v === Infinity) return '.inf'
    if (v === -Infinity) return '-.inf'
    const [mantissa = '0', exp = '0'] = v.toExponential().split('e')
    const e = Number(exp)
    // Go's 'g' with shortest precision decides with precision 6: an exponent when exp < -4 || exp >= 6.
    if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
    return formatFloatF(v)
}

/** `strconv.Atoi` (base 10, optional sign, int64 range). Returns undefined when Go would fail. */
export const parseGoInt = (text: string): bigint | undefined => {
    if (!/^[+-]?[0-9]+$/.test(text)) return undefined
    const v = BigInt(text)
    return v >= -(2n ** 63n) && v < 2n ** 63n ? v : undefined
}

/** `strconv.ParseFloat(s, 64)` for the decimal and special forms sops writes or accepts. */
export const parseGoFloat = (text: string): number | undefined => {
    const lower = text.toLowerCase()
    if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity
    if (lower === 'nan') return NaN
    if (!/^[+-]?([0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9]+)?$/.test(text)) return undefined
    const v = Number(text.replaceAll('_', ''))
    // Go returns ErrRange (an error) for overflow to infinity.
    return Number.isFinite(v) ? v : undefined
}

/** `strconv.ParseBool`. */
export const parseGoBool = (text: string): boolean | undefined => {
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false
    return undefined
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate()

interface ParsedTime { readonly date: string; readonly clock: string; readonly fraction: string; readonly offset: string }

/** Parses Go's RFC 3339 (as `time.Parse(time.RFC3339, s)` accepts it). Undefined when Go would fail. */
export const parseRfc3339 = (text: string): ParsedTime | undefined => {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.exec(text)
    if (!m) return undefined
    const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string]
    const year = Number(y); const month = Number(mo); const day = Number(d)
    if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined
    if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
    let offset = zone
    if (zone !== 'Z') {
        const oh = Number(zone.slice(1, 3)); const om = Number(zone.slice(4, 6))
        if (oh > 23 || om > 59) return undefined
        if (oh === 0 && om === 0) offset = 'Z'
    }
    return { date: `${y}-${mo}-${d}`, clock: `${h}:${mi}:${s}`, fraction: frac ?? '', offset }
}

/** `t.Format(time.RFC3339)` of a parsed time: whole seconds, `Z` for a zero offset. This is the MAC's AAD. */
export const formatRfc3339 = (t: ParsedTime): string => `${t.date}T${t.clock}${t.offset}`

/** `t.MarshalText()` (RFC3339Nano: trailing fractional zeros trimmed). */
export const formatRfc3339Nano = (t: ParsedTime): string => {
    const fraction = t.fraction.replace(/0+$/, '')
    return `${t.date}T${t.clock}${fraction === '.' ? '' : fraction}${t.offset}`
}

/**
 * yaml.v3's plain-scalar timestamp forms (`2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`,
 * with `t` or a space, no zone = UTC), returned in MarshalText form; undefined otherwise.
 */
export const parseYamlTimestamp = (text: string): string | undefined => {
    const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?(?:[ \t]*(Z|[+-]\d{1,2}(?::\d{2})?))?)?$/.exec(text)
    if (!m) return undefined
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m as unknown as string[]
    const year = Number(y); const month = Number(mo); const day = Number(d)
    if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined
    if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
    let offset = 'Z'
    if (zone !== undefined && zone !== 'Z') {
        const [oh = '0', om = '0'] = zone.slice(1).split(':')
        if (Number(oh) !== 0 || Number(om) !== 0) offset = `${zone[0]}${pad(Number(oh))}:${pad(Number(om))}`
    }
    return formatRfc3339Nano({ date: `${pad(year, 4)}-${pad(month)}-${pad(day)}`, clock: `${pad(Number(h))}:${pad(Number(mi))}:${pad(Number(s))}`, fraction: frac ?? '', offset })
}
