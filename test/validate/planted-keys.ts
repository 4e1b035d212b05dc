/**
 * The planted-keys generator (issue 13.8): a seeded generator puts keys of
 * every LLM provider family, DeepInfra keys, generic tokens and age
 * identities into eight file types the way people write them. Shared by
 * scan-planted.test.ts (keyfleet alone) and scan-gitleaks.test.ts (keyfleet
 * side by side with gitleaks on the same files). The key shapes are the
 * providers' published ones; age identities are real bech32 (valid checksum).
 */
import { bech32 } from '@scure/base'

/** One planted key and the file text it sits in. */
export interface Planted {
    readonly family: string
    readonly ext: string
    readonly name: string
    readonly value: string
    readonly text: string
}

/** The seed from KEYFLEET_SEED, else a fresh one (print it: the failure names it). */
export const plantSeed = (): number => Number(process.env.KEYFLEET_SEED ?? Date.now() % 2 ** 31)

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const URLSAFE = `${B62}_-`

/** The eight file types and how a key is written in each. */
export const FILE_TYPES: Record<string, (name: string, value: string) => string> = {
    '.env': (n, v) => `# config\n${n}=${v}\n`,
    '.json': (n, v) => `{\n  "service": "x",\n  "${n}": "${v}"\n}\n`,
    '.yaml': (n, v) => `env:\n  ${n}: ${v}\n`,
    '.py': (n, v) => `import os\n${n} = "${v}"\n`,
    '.ts': (n, v) => `export const config = { ${n}: '${v}' }\n`,
    '.sh': (n, v) => `#!/bin/sh\nexport ${n}='${v}'\n`,
    '.md': (n, v) => `Set it like this:\n\n    ${n}=${v}\n`,
    '.toml': (n, v) => `[provider]\n${n} = "${v}"\n`,
}

/**
 * `perCell` keys of each family in each file type (7 families × 8 types),
 * the same list for the same seed.
 */
export const plantKeys = (seed: number, perCell = 2): Planted[] => {
    let state = seed >>> 0
    const next = (): number => { state = (state + 0x6d2b79f5) >>> 0; let t = state; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32 }
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T
    const chars = (set: string, n: number): string => Array.from({ length: n }, () => pick([...set])).join('')
    const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(next() * 256))
    const families: Record<string, { names: string[]; make: () => string }> = {
        claude: { names: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY', 'anthropic_key'], make: () => `sk-ant-api03-${chars(URLSAFE, 93)}AA` },
        openai: { names: ['OPENAI_API_KEY', 'openai_key', 'OPENAI_API_KEY_2'], make: () => `sk-proj-${chars(URLSAFE, 120)}` },
        gemini: { names: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'google_key'], make: () => `AIza${chars(URLSAFE, 35)}` },
        fireworks: { names: ['FIREWORKS_API_KEY', 'fw_key'], make: () => `fw_${chars(B62, 24)}` },
        deepinfra: { names: ['DEEPINFRA_API_KEY', 'DEEPINFRA_TOKEN', 'deepinfra_api_key', 'DI_KEY', 'deepinfraToken'], make: () => chars(B62, 32) },
        generic: { names: ['ACME_API_TOKEN', 'service_secret', 'apiKey', 'X_AUTH_TOKEN', 'SLACK_SIGNING_SECRET', 'internalApiKey'], make: () => chars(B62, 24 + Math.floor(next() * 40)) },
        age: { names: ['SOPS_AGE_KEY', 'AGE_IDENTITY', 'age_key'], make: () => bech32.encode('age-secret-key-', bech32.toWords(bytes(32)), false).toUpperCase() },
    }
    const out: Planted[] = []
    for (const [family, { names, make }] of Object.entries(families)) {
        for (const [ext, render] of Object.entries(FILE_TYPES)) {
            for (let i = 0; i < perCell; i++) {
                const name = pick(names)
                const value = make()
                out.push({ family, ext, name, value, text: render(name, value) })
            }
        }
    }
    return out
}
