/**
 * Planted keys (issue 13.8): a seeded generator puts keys of every LLM
 * provider family, DeepInfra keys and generic tokens into eight file types
 * the way people write them; the scan must find every one. gitleaks 8.30
 * (the issue's yardstick: DeepInfra 2/8, generic tokens 0/16 before) is not
 * served by this machine's Go proxy, so the formats are the providers'
 * published key shapes. The seed is printed; KEYFLEET_SEED reruns one.
 */
import { describe, expect, test } from 'vitest'
import { builtinCatalog } from '../../src/catalog/index.js'
import { createScanner } from '../../src/validate/index.js'

const seed = Number(process.env.KEYFLEET_SEED ?? Date.now() % 2 ** 31)
console.log(`scan-planted seed ${seed} (KEYFLEET_SEED=${seed} to rerun)`)
let state = seed >>> 0
const next = (): number => { state = (state + 0x6d2b79f5) >>> 0; let t = state; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32 }
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T
const chars = (set: string, n: number): string => Array.from({ length: n }, () => pick([...set])).join('')
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const URLSAFE = `${B62}_-`

const families: Record<string, { names: string[]; make: () => string }> = {
    claude: { names: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY', 'anthropic_key'], make: () => `sk-ant-api03-${chars(URLSAFE, 93)}AA` },
    openai: { names: ['OPENAI_API_KEY', 'openai_key', 'OPENAI_API_KEY_2'], make: () => `sk-proj-${chars(URLSAFE, 120)}` },
    gemini: { names: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'google_key'], make: () => `AIza${chars(URLSAFE, 35)}` },
    fireworks: { names: ['FIREWORKS_API_KEY', 'fw_key'], make: () => `fw_${chars(B62, 24)}` },
    deepinfra: { names: ['DEEPINFRA_API_KEY', 'DEEPINFRA_TOKEN', 'deepinfra_api_key', 'DI_KEY', 'deepinfraToken'], make: () => chars(B62, 32) },
    generic: { names: ['ACME_API_TOKEN', 'service_secret', 'apiKey', 'X_AUTH_TOKEN', 'SLACK_SIGNING_SECRET', 'internalApiKey'], make: () => chars(`${B62}`, 24 + Math.floor(next() * 40)) },
}
const fileTypes: Record<string, (name: string, value: string) => string> = {
    '.env': (n, v) => `# config\n${n}=${v}\n`,
    '.json': (n, v) => `{\n  "service": "x",\n  "${n}": "${v}"\n}\n`,
    '.yaml': (n, v) => `env:\n  ${n}: ${v}\n`,
    '.py': (n, v) => `import os\n${n} = "${v}"\n`,
    '.ts': (n, v) => `export const config = { ${n}: '${v}' }\n`,
    '.sh': (n, v) => `#!/bin/sh\nexport ${n}='${v}'\n`,
    '.md': (n, v) => `Set it like this:\n\n    ${n}=${v}\n`,
    '.toml': (n, v) => `[provider]\n${n} = "${v}"\n`,
}

describe('planted keys', () => {
    const scanner = createScanner(builtinCatalog)
    test('every planted key is found in every file type (seeded)', () => {
        const missed: string[] = []
        let planted = 0
        for (const [family, { names, make }] of Object.entries(families)) {
            for (const [ext, render] of Object.entries(fileTypes)) {
                for (let i = 0; i < 2; i++) {
                    const name = pick(names)
                    const value = make()
                    planted++
                    const found = scanner.scanText(render(name, value), `planted${ext}`)
                    if (found.length !== 1) missed.push(`${family} ${name} in ${ext}: ${found.length} findings`)
                }
            }
        }
        expect(planted).toBe(96)
        expect(missed, `seed ${seed}`).toEqual([])
    })
})
