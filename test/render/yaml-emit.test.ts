import fc from 'fast-check'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { emitYaml, yamlScalar } from '../../src/render/yaml-emit.js'

// JSON-shaped values as rendered manifests hold them (finite numbers, no undefined).
const { tree } = fc.letrec((tie) => ({
    tree: fc.dictionary(fc.string(), tie('node'), { maxKeys: 5 }),
    node: fc.oneof(
        { depthSize: 'small' },
        fc.string(), fc.constantFrom('yes', 'No', 'on', 'null', '~', 'true', '1e3', '0777', '-', '- x', 'a: b', '#c', '', ' lead', 'trail '),
        fc.integer(), fc.boolean(),
        fc.array(tie('node'), { maxLength: 4 }), tie('tree'),
    ),
}))

describe('emitYaml', () => {
    it('emits YAML that parses back to exactly the input (property)', () => {
        fc.assert(fc.property(tree, (value) => {
            expect(parse(emitYaml(value as never), { version: '1.2' })).toEqual(value)
        }), { numRuns: 500 })
    })

    it('quotes every scalar a YAML 1.1 parser (kubectl) would read as a bool, null or number', () => {
        for (const s of ['yes', 'NO', 'on', 'Off', 'y', 'true', 'null', '~', '1', '0x1f', '.inf', '1e3', '0400']) {
            expect(yamlScalar(s)).toBe(JSON.stringify(s))
            expect(parse(`v: ${yamlScalar(s)}`, { version: '1.1' })).toEqual({ v: s })
        }
    })

    it('keeps plain words plain and writes a Deployment patch the way kubectl users read it', () => {
        expect(emitYaml({ metadata: { name: 'support-bot', labels: { 'app.kubernetes.io/name': 'x' } }, list: [{ name: 'a', v: 256 }], e: [], m: {} })).toBe(
            'metadata:\n  name: support-bot\n  labels:\n    app.kubernetes.io/name: x\nlist:\n  - name: a\n    v: 256\ne: []\nm: {}\n',
        )
    })
})
