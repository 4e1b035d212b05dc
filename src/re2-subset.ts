/**
 * Yes/no matching without re2js for the patterns src/catalog/pattern-syntax.ts recognises (the
 * shape of provider key rules: anchors, literals, escapes, `.`, simple classes, plain groups,
 * alternation, bounded quantifiers), on printable-ASCII text (what an API key is).
 *
 * Why (issue 15): `keyfleet check` and `validate` with keys test every value against its catalog
 * `format`; loading re2js (183 kB) and compiling six rules on a cold JIT cost ~25 ms, over half of
 * what the command may spend. A yes/no answer does not depend on how an engine prefers one
 * alternative or repetition over another, only on the language the pattern denotes, so a Thompson
 * NFA simulation (as RE2's own) gives Go's answer here: linear in the text, no backtracking.
 *
 * Anything else (a pattern outside the subset, text with a tab, a line break or a non-ASCII
 * character, where `.`, `\s` and negated classes need Go's rune rules) returns undefined and the
 * caller asks re2js. test/re2-subset.test.ts holds the answers to re2js on seeded random patterns
 * and texts.
 */
import { simplePatternShape } from './catalog/pattern-syntax.js'

// Program: CHAR c (a 128-entry table), SPLIT a b, JMP a, BOL, EOL, MATCH.
const CHAR = 0
const SPLIT = 1
const JMP = 2
const BOL = 3
const EOL = 4
const MATCH = 5
// A rule of 256 characters with counts of up to 100 stays far below this; anything bigger goes to re2js.
const MAX_PROGRAM = 20_000

type Set128 = Uint8Array
type Node =
    | { readonly k: 'set'; readonly set: Set128 }
    | { readonly k: 'bol' | 'eol' }
    | { readonly k: 'cat'; readonly items: readonly Node[] }
    | { readonly k: 'alt'; readonly alts: readonly Node[] }
    | { readonly k: 'rep'; readonly node: Node; readonly min: number; readonly max: number }

const range = (lo: number, hi: number, into: Set128 = new Uint8Array(128)): Set128 => { for (let c = lo; c <= hi; c++) into[c] = 1; return into }
const union = (into: Set128, from: Set128): Set128 => { for (let c = 0; c < 128; c++) if (from[c] === 1) into[c] = 1; return into }
const complement = (set: Set128): Set128 => set.map((v) => 1 - v)
const DIGIT = range(48, 57)
const WORD = union(union(range(65, 90), range(97, 122)), union(range(48, 57), range(95, 95)))
// Go's \s: [\t\n\f\r ].
const SPACE: Set128 = new Uint8Array(128)
for (const c of [9, 10, 12, 13, 32]) SPACE[c] = 1
const perl = (c: string): Set128 => {
    const base = c.toLowerCase() === 'd' ? DIGIT : c.toLowerCase() === 'w' ? WORD : SPACE
    return c === c.toUpperCase() ? complement(base) : base
}
const single = (code: number): Set128 => range(code, code)
// Go's `.` without the s flag: anything but a line feed.
const DOT = complement(single(10))

/** Parses a pattern the recogniser accepted; undefined on anything unexpected. */
const parse = (source: string): Node | undefined => {
    let i = 0
    const alternation = (): Node | undefined => {
        const alts: Node[] = []
        for (;;) {
            const items: Node[] = []
            while (i < source.length && source[i] !== '|' && source[i] !== ')') {
                const atom = atomAt()
                if (atom === undefined) return undefined
                items.push(quantified(atom))
            }
            alts.push({ k: 'cat', items })
            if (source[i] !== '|') return alts.length === 1 ? alts[0] : { k: 'alt', alts }
            i++
        }
    }
    const quantified = (atom: Node): Node => {
        const c = source[i]
        if (c === '?') { i++; return { k: 'rep', node: atom, min: 0, max: 1 } }
        if (c === '*') { i++; return { k: 'rep', node: atom, min: 0, max: Infinity } }
        if (c === '+') { i++; return { k: 'rep', node: atom, min: 1, max: Infinity } }
        const m = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null
        if (!m) return atom
        i += m[0].length
        const min = Number(m[1])
        return { k: 'rep', node: atom, min, max: m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]) }
    }
    const atomAt = (): Node | undefined => {
        const c = source[i] as string
        if (c === '^') { i++; return { k: 'bol' } }
        if (c === '$') { i++; return { k: 'eol' } }
        if (c === '.') { i++; return { k: 'set', set: DOT } }
        if (c === '(') {
            i++
            const inner = alternation()
            if (inner === undefined || source[i] !== ')') return undefined
            i++
            return inner
        }
        if (c === '[') return classAt()
        if (c === '\\') {
            const next = source[i + 1] ?? ''
            i += 2
            return { k: 'set', set: /[dwsDWS]/.test(next) ? perl(next) : single(next.charCodeAt(0)) }
        }
        if (c.charCodeAt(0) >= 128) return undefined
        i++
        return { k: 'set', set: single(c.charCodeAt(0)) }
    }
    const classAt = (): Node | undefined => {
        i++
        const negated = source[i] === '^'
        if (negated) i++
        const set = new Uint8Array(128)
        for (let first = true; ; first = false) {
            const c = source[i]
            if (c === undefined) return undefined
            if (c === ']' && !first) { i++; break }
            if (c === '\\') { union(set, perl(source[i + 1] ?? '')); i += 2; continue }
            if (source[i + 1] === '-' && source[i + 2] !== ']' && source[i + 2] !== undefined) {
                range(c.charCodeAt(0), (source[i + 2] as string).charCodeAt(0), set)
                i += 3
                continue
            }
            range(c.charCodeAt(0), c.charCodeAt(0), set)
            i++
        }
        return { k: 'set', set: negated ? complement(set) : set }
    }
    const node = alternation()
    return node !== undefined && i === source.length ? node : undefined
}

/** The compiled program: opcodes, two operands and, for CHAR, the index of its table. */
interface Program { readonly op: number[]; readonly x: number[]; readonly y: number[]; readonly sets: Set128[] }

const compile = (root: Node): Program | undefined => {
    const p: Program = { op: [], x: [], y: [], sets: [] }
    const emit = (op: number, x = 0, y = 0): number => { p.op.push(op); p.x.push(x); p.y.push(y); return p.op.length - 1 }
    const gen = (node: Node): boolean => {
        if (p.op.length > MAX_PROGRAM) return false
        switch (node.k) {
            case 'set': p.sets.push(node.set); emit(CHAR, p.sets.length - 1); return true
            case 'bol': emit(BOL); return true
            case 'eol': emit(EOL); return true
            case 'cat': return node.items.every(gen)
            case 'alt': {
                // SPLIT to each alternative in turn; every alternative jumps to the end.
                const jumps: number[] = []
                for (let a = 0; a < node.alts.length; a++) {
                    const split = a < node.alts.length - 1 ? emit(SPLIT) : -1
                    if (split >= 0) p.x[split] = split + 1
                    if (!gen(node.alts[a] as Node)) return false
                    if (a < node.alts.length - 1) { jumps.push(emit(JMP)); p.y[split] = p.op.length }
                }
                for (const j of jumps) p.x[j] = p.op.length
                return true
            }
            case 'rep': {
                for (let n = 0; n < node.min; n++) if (!gen(node.node)) return false
                if (node.max === Infinity) {
                    const split = emit(SPLIT)
                    p.x[split] = split + 1
                    if (!gen(node.node)) return false
                    emit(JMP, split)
                    p.y[split] = p.op.length
                    return true
                }
                // (x(x(x)?)?)? for the optional copies.
                const splits: number[] = []
                for (let n = node.min; n < node.max; n++) {
                    const split = emit(SPLIT)
                    p.x[split] = split + 1
                    splits.push(split)
                    if (!gen(node.node)) return false
                }
                for (const s of splits) p.y[s] = p.op.length
                return true
            }
        }
    }
    if (!gen(root)) return undefined
    emit(MATCH)
    return p.op.length > MAX_PROGRAM ? undefined : p
}

/** Runs the program over `text` as an unanchored search (Go's MatchString). */
const run = (p: Program, text: string): boolean => {
    const size = p.op.length
    let clist = new Int32Array(size)
    let nlist = new Int32Array(size)
    let cn = 0
    let nn = 0
    const mark = new Int32Array(size).fill(-1)
    const stack = new Int32Array(size * 2 + 2)
    // Adds `pc` and everything reachable from it without reading a character, at position `at`.
    const add = (list: Int32Array, count: number, pc0: number, at: number, gen: number): number | -1 => {
        let sp = 0
        stack[sp++] = pc0
        while (sp > 0) {
            const pc = stack[--sp] as number
            if (mark[pc] === gen) continue
            mark[pc] = gen
            const op = p.op[pc]
            if (op === MATCH) return -1
            if (op === JMP) stack[sp++] = p.x[pc] as number
            else if (op === SPLIT) { stack[sp++] = p.y[pc] as number; stack[sp++] = p.x[pc] as number }
            else if (op === BOL) { if (at === 0) stack[sp++] = pc + 1 }
            else if (op === EOL) { if (at === text.length) stack[sp++] = pc + 1 }
            else list[count++] = pc
        }
        return count
    }
    for (let at = 0; ; at++) {
        // Generations: 2·at for this position's list (shared by the carried threads and the new start).
        const gen = 2 * at
        const started = add(clist, cn, 0, at, gen)
        if (started === -1) return true
        cn = started
        if (at === text.length) return false
        const c = text.charCodeAt(at)
        nn = 0
        for (let t = 0; t < cn; t++) {
            const pc = clist[t] as number
            if ((p.sets[p.x[pc] as number] as Set128)[c] === 1) {
                const added = add(nlist, nn, pc + 1, at + 1, gen + 2)
                if (added === -1) return true
                nn = added
            }
        }
        const swap = clist
        clist = nlist
        nlist = swap
        cn = nn
    }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/** A compiled yes/no matcher, or undefined when `source` is outside the subset (ask re2js). */
export type SubsetMatcher = (text: string) => boolean | undefined

/**
 * A matcher for `source` when the recogniser accepts it: for printable-ASCII text it answers as
 * Go's `regexp.MatchString` would; for any other text it returns undefined (ask re2js).
 */
export const subsetMatcher = (source: string): SubsetMatcher | undefined => {
    if (simplePatternShape(source) === undefined) return undefined
    const node = parse(source)
    const program = node === undefined ? undefined : compile(node)
    if (program === undefined) return undefined
    return (text) => (PRINTABLE_ASCII.test(text) ? run(program, text) : undefined)
}
