/**
 * Placeholder detection: values people leave in `.env` files that are not keys.
 * An environment variable holding one of these does not override the mounted
 * key, and a placeholder in env.secrets is a validation error.
 */

const PLACEHOLDER = [
    /^$/,
    /^\s+$/,
    /placeholder/i,
    /^change[-_ ]?me$/i,
    /^your[-_].*[-_](key|token|secret)(?:[-_]here)?$/i,
    /^<[^>]*>$/,
    /^\$\{[^}]*\}$/,
    /^(x+|\*+|\.+|-+|0+)$/i,
    /^(todo|tbd|fixme|replace[-_ ]?me|insert[-_ ]?key[-_ ]?here|dummy|null|none|undefined|test|example)$/i,
    /^sk-(proj-)?\.\.\.$/i,
    /^sk-x+$/i,
]

/** True when `value` is empty or looks like a placeholder rather than a key. */
export const isPlaceholder = (value: string): boolean => PLACEHOLDER.some((pattern) => pattern.test(value.trim()) || pattern.test(value))
