/**
 * Differential tests of src/dotenv.ts against the `dotenv` package (17.4.1, the
 * oracle): its own fixtures and seeded generated files must give the same map,
 * or a refusal of a documented kind on a line where keyfleet deliberately differs.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import dotenv from 'dotenv'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDotenvEntries, type DotenvRefusal } from '../../src/dotenv.js'

interface Refused { line: number; kind: DotenvRefusal }
class Refusal extends Error { constructor(readonly line: number, readonly kind: DotenvRefusal) { super(kind) } }

const ours = (text: string): Record<string, string> | Refused => {
    try {
        return Object.fromEntries(parseDotenvEntries(text, (line, _why, kind) => { throw new Refusal(line, kind) }).map((e) => [e.name, e.value]))
    } catch (error) {
        if (error instanceof Refusal) return { line: error.line, kind: error.kind }
        throw error
    }
}

/**
 * Parses with keyfleet, dropping each refused line until the rest parses;
 * returns the map and the refusals (the disagreement table of a file).
 */
const oursDroppingRefused = (text: string): { map: Record<string, string>; refused: Array<Refused & { name: string | undefined }> } => {
    let lines = text.replace(/\r\n?/g, '\n').split('\n')
    const refused: Array<Refused & { name: string | undefined }> = []
    for (;;) {
        const got = ours(lines.join('\n'))
        if (!('kind' in got && typeof got.kind === 'string' && typeof got.line === 'number')) return { map: got as Record<string, string>, refused }
        const r = got as Refused
        refused.push({ ...r, name: /^\s*(?:export\s+)?([\w.-]+)/.exec(lines[r.line - 1] ?? '')?.[1] })
        lines = [...lines.slice(0, r.line - 1), ...lines.slice(r.line)]
    }
}

const FIXTURES = join(import.meta.dirname, '../fixtures/dotenv')

describe('dotenv fixtures (motdotla/dotenv tests/, data only)', () => {
    for (const file of readdirSync(FIXTURES).filter((f) => f.startsWith('fixture'))) {
        it(`${file}: same map as dotenv, apart from documented refusals`, () => {
            const bytes = readFileSync(join(FIXTURES, file))
            const expected = dotenv.parse(bytes)
            const { map, refused } = oursDroppingRefused(bytes.toString('utf8'))
            const refusedNames = new Set(refused.map((r) => r.name))
            for (const [name, value] of Object.entries(expected)) {
                if (refusedNames.has(name)) continue
                expect({ name, value: map[name] }).toEqual({ name, value })
            }
            for (const name of Object.keys(map)) expect(expected).toHaveProperty([name])
            // Every refusal is one keyfleet documents, and only for values dotenv reads as empty here.
            for (const r of refused) {
                expect(['empty', 'interpolation', 'duplicate']).toContain(r.kind)
                if (r.kind === 'empty') expect(expected[r.name as string]).toBe('')
            }
        })
    }

    it('reads the fixture cases the issue names exactly as dotenv', () => {
        const text = [
            'DB_PASS=pw#tail', 'BACKTICK=`a # b`', 'MULTI=`line1', 'line2`', 'ESC="a\\"b"', 'WIN="C:\\temp"',
            'LIT=\'line1\\nline2\'', 'PATHS=C:\\new\\logs', 'NL="x\\ny\\rz"', 'export EXP=1', 'COLON: yes',
            'PEM="-----BEGIN KEY-----', 'MIIB', '-----END KEY-----"', 'TRAIL="C:\\dir\\"',
        ].join('\r\n')
        const expected = dotenv.parse(Buffer.from(`\uFEFF${text}`))
        expect(ours(`\uFEFF${text}`)).toEqual(expected)
        expect(expected.DB_PASS).toBe('pw')
        expect(expected.MULTI).toBe('line1\nline2')
    })

    it.each<[string, string, DotenvRefusal, number]>([
        ['an empty value', 'A=1\nOPENAI_API_KEY= # fill me in', 'empty', 2],
        ['a duplicate', 'A=1\nB=2\nA=3', 'duplicate', 3],
        ['interpolation', 'A=1\nB=${A}/x', 'interpolation', 2],
        ['an unterminated quote', 'A="sk-proj-abc\nB=1', 'unterminated', 1],
        ['text after the quote', 'A="x" y', 'after-quote', 1],
        ['a line dotenv skips', 'A=1\nOPENAI_AP', 'syntax', 2],
        ['a name with a leading digit', '1ABC=x', 'name', 1],
    ])('refuses %s with its line', (_what, text, kind, line) => {
        expect(ours(text)).toEqual({ kind, line })
    })

    it('keeps interpolation literal in single quotes, as dotenv does', () => {
        expect(ours("A='${HOME}'")).toEqual(dotenv.parse("A='${HOME}'"))
    })
})

// Pieces real files are made of, including the awkward ones.
const chars = fc.constantFrom('a', 'Z', '0', ' ', '\t', '#', '=', '\'', '"', '`', '\\', 'n', 'r', '$', '{', '}', ':', '\n', 'é', '\u00a0', '/')
const rawValue = fc.array(chars, { maxLength: 12 }).map((a) => a.join(''))
const name = fc.constantFrom('A', 'B', 'KEY', 'DB_PASS', 'x.y', 'a-b', '_U', '1X', 'export')
const entry = fc.tuple(
    fc.constantFrom('', 'export ', '  ', '\t'), name, fc.constantFrom('=', ' = ', ': ', '='),
    fc.constantFrom('', '\'', '"', '`', '"', '\''), rawValue, fc.constantFrom('', ' # c', '#c', '  ', ' x'),
).map(([pre, n, sep, q, v, tail]) => `${pre}${n}${sep}${q}${v}${q}${tail}`)
const fileLine = fc.oneof({ weight: 6, arbitrary: entry }, fc.constant(''), fc.constant('# comment'), fc.constant('  # KEY=x'))
const file = fc.tuple(fc.array(fileLine, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
    .map(([lines, eol, bom]) => `${bom ? '\uFEFF' : ''}${lines.join(eol)}`)

describe('generated files (fast-check)', () => {
    it('same map as dotenv, or a refusal', () => {
        const seed = Number(process.env.DOTENV_FUZZ_SEED ?? Date.now() % 2 ** 31)
        console.log(`dotenv differential seed: ${seed} (DOTENV_FUZZ_SEED=${seed} to replay)`)
        const counts: Record<string, number> = { same: 0 }
        fc.assert(fc.property(file, (text) => {
            const got = ours(text)
            if ('kind' in got && typeof got.line === 'number') {
                counts[got.kind] = (counts[got.kind] ?? 0) + 1
                return
            }
            counts.same = (counts.same ?? 0) + 1
            expect(got).toEqual(dotenv.parse(Buffer.from(text)))
        }), { seed, numRuns: 3000 })
        console.log('dotenv differential outcomes:', counts)
        // The generator must exercise agreement, not just refusals.
        expect(counts.same).toBeGreaterThan(300)
    })
})
