/**
 * rotate-key's deployment.yaml edits (src/lifecycle/rotate-key.ts): step b takes the old member out of
 * each agent's `keys:` and `weights:` (a weight for a key the agent no longer reads is KF320), keeps
 * comments and everything else, and leaves a file that still parses without findings.
 */
import { describe, expect, it } from 'vitest'
import { builtinCatalog } from '../../src/catalog/builtin.js'
import { indexCatalog } from '../../src/catalog/resolve.js'
import { removeFromDeployment } from '../../src/lifecycle/rotate-key.js'
import { parseDeployment } from '../../src/render/deployment.js'

const index = indexCatalog(builtinCatalog)
const text = `environment: dev
agents:
  - name: web   # the front end
    cloud: aws
    target: kubernetes
    namespace: agents-dev
    keys: [OPENAI_API_KEY, OPENAI_API_KEY_2, claude]
    weights: { OPENAI_API_KEY: 1, OPENAI_API_KEY_2: 3 }   # _2 has the larger quota
  - name: batch
    cloud: gcp
    target: kubernetes
    namespace: batch-dev
    keys: [OPENAI_API_KEY, OPENAI_API_KEY_2]
    weights:
      OPENAI_API_KEY: 2
`

describe('removeFromDeployment', () => {
    it('drops the removed member from keys and weights, and weights: once empty; the result validates', () => {
        const before = parseDeployment(text, 'deployment.yaml', builtinCatalog)
        expect(before.findings).toEqual([])
        const after = removeFromDeployment(text, ['OPENAI_API_KEY'], index)
        const parsed = parseDeployment(after, 'deployment.yaml', builtinCatalog)
        expect(parsed.findings).toEqual([])
        const agents = parsed.deployment?.agents ?? []
        expect(agents.map((a) => [a.name, a.keys, a.weights])).toEqual([
            ['web', ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY_2'], { OPENAI_API_KEY_2: 3 }],
            ['batch', ['OPENAI_API_KEY_2'], undefined],
        ])
        expect(after).toContain('# the front end')
        expect(after).toContain('# _2 has the larger quota')
        expect(after).not.toMatch(/^\s+weights:\s*$/m)
    })
})
