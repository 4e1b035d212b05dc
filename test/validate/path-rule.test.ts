/**
 * The direct matcher for keyfleet's own `path_regex` shape (validate/path-rule.ts) against re2js, the RE2
 * port sops' semantics are held to elsewhere: the same answer on seeded random paths (the seed is in the
 * test name; KEYFLEET_FUZZ_SEED=N replays one), and only that shape is taken.
 */
import { RE2JS } from 're2js'
import { describe, expect, it } from 'vitest'
import { directoryRule } from '../../src/validate/path-rule.js'
import { rng } from '../sops/native/differential.js'

const SEED = Number(process.env.KEYFLEET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

describe(`path_regex ^PREFIX[^/]+$ without re2js (seed ${SEED})`, () => {
    it('answers as re2js on seeded paths', () => {
        const r = rng(SEED)
        const parts = ['environments', '/', 'dev', 'stage', 'prod', 'env.secrets', '.', 'x', '\n', '\r', '', 'é', '😀', '\u2028', ' ', '//', 'dev-eu', 'a.b']
        const sources = ['^environments/dev/[^/]+$', '^environments/stage/[^/]+$', '^environments/dev\\.x/[^/]+$', '^environments/[^/]+$', '^dev[^/]+$', '^environments/dev-eu/[^/]+$']
        for (const source of sources) {
            const mine = directoryRule(source)
            expect(mine, source).toBeDefined()
            const re = RE2JS.compile(source)
            for (let n = 0; n < 3000; n++) {
                let text = ''
                const length = Math.floor(r() * 6)
                for (let i = 0; i < length; i++) text += parts[Math.floor(r() * parts.length)] as string
                if (r() < 0.5) text = source.slice(1, -6).replaceAll('\\.', '.') + text
                expect({ source, text, match: mine?.test(text) }).toEqual({ source, text, match: re.test(text) })
            }
        }
    })

    it('takes only that shape', () => {
        for (const other of ['^environments/dev/[^/]*$', 'environments/dev/[^/]+$', '^environments/dev/[^/]+', '^env.x/[^/]+$', '(?m)^environments/dev/[^/]+$', '^[^/]+$', '^environments/dev/[^/]+$x']) {
            expect(directoryRule(other), other).toBeUndefined()
        }
    })
})
