/**
 * A small, fast YAML emitter for the fixed shapes keyfleet renders (plain
 * JSON data: mappings, sequences, strings, numbers, booleans).
 *
 * Why not `yaml.stringify`: rendering 10,000 agents must stay well under a
 * second, and the output must be byte-stable across library upgrades. Every
 * scalar that is not unmistakably a plain word is written as a JSON string,
 * which YAML 1.2 (and the YAML 1.1 parser kubectl uses) reads back unchanged,
 * so there is no quoting subtlety to get wrong.
 */

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json }

// Plain scalars: start with a letter, `_` or `/`; never a number, never a YAML 1.1 boolean or null.
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/
const RESERVED = /^(y|yes|n|no|true|false|on|off|null|nan|inf)$/i

/** A scalar as YAML text: plain when safe, otherwise a JSON (double-quoted) string. */
export const yamlScalar = (value: string | number | boolean | null): string => {
    if (typeof value === 'string') return PLAIN.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value)
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('cannot emit a non-finite number')
    return String(value)
}

const isEmpty = (value: Json): boolean =>
    Array.isArray(value) ? value.length === 0 : typeof value === 'object' && value !== null && Object.keys(value).length === 0

const emptyForm = (value: Json): string => (Array.isArray(value) ? '[]' : '{}')

const emit = (value: Json, indent: string, out: string[]): void => {
    if (Array.isArray(value)) {
        for (const item of value as readonly Json[]) {
            if (typeof item === 'object' && item !== null && !isEmpty(item)) {
                // `- ` opens the item; its first line shares the dash, the rest align under it.
                const nested: string[] = []
                emit(item, `${indent}  `, nested)
                out.push(`${indent}- ${(nested[0] as string).slice(indent.length + 2)}`, ...nested.slice(1))
            } else {
                out.push(`${indent}- ${typeof item === 'object' && item !== null ? emptyForm(item) : yamlScalar(item)}`)
            }
        }
        return
    }
    for (const [key, item] of Object.entries(value as { readonly [key: string]: Json })) {
        const head = `${indent}${yamlScalar(key)}:`
        if (typeof item === 'object' && item !== null) {
            if (isEmpty(item)) out.push(`${head} ${emptyForm(item)}`)
            else {
                out.push(head)
                emit(item, `${indent}  `, out)
            }
        } else out.push(`${head} ${yamlScalar(item)}`)
    }
}

/**
 * Emits one YAML document (no `---`), ending with a newline. Key order is the
 * object's insertion order, so callers control the layout.
 * @throws TypeError for non-finite numbers.
 */
export const emitYaml = (value: { readonly [key: string]: Json }): string => {
    if (isEmpty(value)) return '{}\n'
    const out: string[] = []
    emit(value, '', out)
    return `${out.join('\n')}\n`
}

export type { Json }
