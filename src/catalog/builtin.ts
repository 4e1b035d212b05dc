/**
 * The five providers keyfleet knows without any configuration. The repository
 * catalog (`environments/keyfleet.yaml`) restates and extends them; the loader
 * uses these defaults inside agents, which carry no catalog file.
 * test/catalog/builtin.test.ts keeps the two in agreement.
 */
import { lazyPattern } from '../re2.js'
import type { Catalog, ProbeSpec, SecretSpec } from './types.js'

const probe = (baseUrl: string, path: string, auth: ProbeSpec['auth'], headers: Record<string, string> = {}): ProbeSpec =>
    ({ baseUrl, path, auth, headers })

const provider = (
    service: string, title: string, name: string, aliases: string[], format: string, probeSpec: ProbeSpec,
): SecretSpec => ({
    name, service, title, aliases, format: lazyPattern(format), requiredIn: [], probe: probeSpec, custom: false,
})

/** Built-in provider secrets, in catalog order. */
export const builtinSecrets: readonly SecretSpec[] = [
    provider('claude', 'Anthropic (Claude)', 'ANTHROPIC_API_KEY', ['CLAUDE_API_KEY'],
        '^sk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}$',
        probe('https://api.anthropic.com', '/v1/models', 'x-api-key', { 'anthropic-version': '2023-06-01' })),
    provider('openai', 'OpenAI', 'OPENAI_API_KEY', [],
        '^sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}$',
        probe('https://api.openai.com', '/v1/models', 'bearer')),
    provider('gemini', 'Google Gemini', 'GEMINI_API_KEY', ['GOOGLE_API_KEY'],
        '^AIza[0-9A-Za-z_-]{35}$',
        probe('https://generativelanguage.googleapis.com', '/v1beta/models', 'x-goog-api-key')),
    provider('fireworks', 'Fireworks AI', 'FIREWORKS_API_KEY', [],
        '^fw_[A-Za-z0-9]{20,}$',
        probe('https://api.fireworks.ai', '/inference/v1/models', 'bearer')),
    provider('deepinfra', 'DeepInfra', 'DEEPINFRA_API_KEY', ['DEEPINFRA_TOKEN'],
        '^[A-Za-z0-9]{32}$',
        probe('https://api.deepinfra.com', '/v1/openai/models', 'bearer')),
]

/** The catalog used when no `keyfleet.yaml` is given: the five providers, no requirements. */
export const builtinCatalog: Catalog = { environments: ['dev', 'stage', 'prod'], secrets: builtinSecrets }

