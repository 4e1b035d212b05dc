/**
 * yaml.v3's resolution of untagged plain scalars (go.yaml.in/yaml/v3
 * resolve.go), so a plaintext YAML value has the Go type sops saw: the MAC
 * hashes `True` for `true`, `15` for `0o17`, and a timestamp in RFC 3339.
 */
import { parseGoFloat, parseYamlTimestamp } from './go-values.js'
import type { Scalar } from './tree.js'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

const FIXED: Record<string, Scalar> = Object.assign(Object.create(null) as Record<string, Scalar>, {
    true: { type: 'bool', value: true }, True: { type: 'bool', value: true }, TRUE: { type: 'bool', value: true },
    false: { type: 'bool', value: false }, False: { type: 'bool', value: false }, FALSE: { type: 'bool', value: false },
    '': { type: 'null' }, '~': { type: 'null' }, null: { type: 'null' }, Null: { type: 'null' }, NULL: { type: 'null' },
    '.nan': { type: 'float', value: NaN }, '.NaN': { type: 'float', value: NaN }, '.NAN': { type: 'float', value: NaN },
    '.inf': { type: 'float', value: Infinity }, '.Inf': { type: 'float', value: Infinity }, '.INF': { type: 'float', value: Infinity },
    '+.inf': { type: 'float', value: Infinity }, '+.Inf': { type: 'float', value: Infinity }, '+.INF': { type: 'float', value: Infinity },
    '-.inf': { type: 'float', value: -Infinity }, '-.Inf': { type: 'float', value: -Infinity }, '-.INF': { type: 'float', value: -Infinity },
})

/** A uint64 that is not an int64: sops' ToBytes cannot hash it, so callers reject it. */
export const UNSUPPORTED_UINT = Symbol('uint64')

/** `strconv.ParseInt(s, 0, 64)` / ParseUint: base prefixes 0x, 0o, 0b and a bare leading 0 for octal. */
const parseIntBase0 = (text: string): bigint | typeof UNSUPPORTED_UINT | undefined => {
    const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(text)
    if (!m) return undefined
    const [, sign, body = ''] = m
    let digits = body
    if (/^0[0-7]+$/.test(body)) digits = `0o${body.slice(1)}`
    const magnitude = BigInt(digits.toLowerCase().replace(/^0([xob])/, '0$1'))
    const value = sign === '-' ? -magnitude : magnitude
    if (value >= INT64_MIN && value <= INT64_MAX) return value
    return sign !== '-' && value <= UINT64_MAX ? UNSUPPORTED_UINT : undefined
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/

/**
 * Resolves a plain (unquoted, untagged) scalar the way yaml.v3 does when decoding into `interface{}`.
 * @returns the typed scalar, or {@link UNSUPPORTED_UINT}.
 */
export const resolvePlain = (text: string): Scalar | typeof UNSUPPORTED_UINT => {
    const first = text[0]
    const hint = first === undefined ? 'N'
        : first === '+' || first === '-' ? 'S'
        : first >= '0' && first <= '9' ? 'D'
        : 'yYnNtTfFoO~'.includes(first) ? 'M'
        : first === '.' ? '.' : ''
    if (hint === '') return { type: 'str', value: text }
    const fixed = FIXED[text]
    if (fixed) return fixed
    if (hint === '.') {
        const v = parseGoFloat(text)
        return v === undefined ? { type: 'str', value: text } : { type: 'float', value: v }
    }
    if (hint === 'D' || hint === 'S') {
        const time = parseYamlTimestamp(text)
        if (time !== undefined) return { type: 'time', text: time }
        const plain = text.replaceAll('_', '')
        const int = parseIntBase0(plain)
        if (int === UNSUPPORTED_UINT) return int
        if (int !== undefined) return { type: 'int', value: int }
        if (YAML_STYLE_FLOAT.test(plain)) {
            const v = parseGoFloat(plain)
            if (v !== undefined) return { type: 'float', value: v }
        }
    }
    return { type: 'str', value: text }
}

/** Whether yaml.v3 would have to quote `text` to keep it a string (it resolves to another type, or is a YAML 1.1 bool). */
export const needsQuotes = (text: string): boolean => {
    const r = resolvePlain(text)
    if (r === UNSUPPORTED_UINT || r.type !== 'str') return true
    // isOldBool and base-60 floats: yaml.v3 quotes these for YAML 1.1 readers.
    return /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(text) || /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(text)
}
