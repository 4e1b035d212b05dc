import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateIdentity } from '../../src/age/index.js'
import { loadCatalog, type Catalog } from '../../src/catalog/index.js'
import { parseDeployment } from '../../src/render/index.js'
import { repoRoot } from '../helpers/tools.js'

let catalog: Catalog
let recipient: string
beforeAll(async () => {
    catalog = loadCatalog(join(repoRoot, 'environments', 'keyfleet.yaml'))
    recipient = (await generateIdentity()).recipient
})

const FILE = 'environments/dev/deployment.yaml'

/** A valid two-agent file; tests break one line of it. */
const good = (): string => [
    'environment: dev',                       // 1
    'agents:',                                // 2
    '  - name: support-bot',                  // 3
    '    cloud: aws',                         // 4
    '    target: kubernetes',                 // 5
    '    namespace: agents-dev',              // 6
    '    keys: [claude, OPENAI_API_KEY]',     // 7
    '  - name: laptop',                       // 8
    '    cloud: local',                       // 9
    '    target: bundle',                     // 10
    `    recipient: ${recipient}`,            // 11
    '    keys:',                              // 12
    '      - CLAUDE_API_KEY',                 // 13
    '      - OPENAI_API_KEY_2',               // 14
    '',
].join('\n')

const errorsOf = (text: string): { code: string; line: number | undefined; message: string }[] =>
    parseDeployment(text, FILE, catalog).findings.map((f) => ({ code: f.code, line: f.line, message: f.message }))

describe('parseDeployment', () => {
    it.each(['dev', 'stage', 'prod'])('accepts the demo environments/%s/deployment.yaml with no finding', (env) => {
        const file = `environments/${env}/deployment.yaml`
        const parsed = parseDeployment(readFileSync(join(repoRoot, file), 'utf8'), file, catalog)
        expect(parsed.findings).toEqual([])
        expect(parsed.deployment?.environment).toBe(env)
        const clouds = new Set(parsed.deployment?.agents.map((a) => a.cloud))
        expect([...clouds].sort()).toEqual(['aws', 'azure', 'gcp', 'local'])
    })

    it('resolves services, aliases and pool members to canonical names, sorted, with defaults filled in', () => {
        const { deployment, findings } = parseDeployment(good(), FILE, catalog)
        expect(findings).toEqual([])
        const [bot, laptop] = deployment?.agents ?? []
        expect(bot).toMatchObject({
            name: 'support-bot', target: 'kubernetes', namespace: 'agents-dev', recipient: undefined,
            keys: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'], deployment: 'support-bot', container: 'support-bot',
            mountPath: '/var/run/keyfleet/secrets', line: 3,
        })
        expect(laptop).toMatchObject({ target: 'bundle', namespace: undefined, recipient, keys: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY_2'], line: 8 })
    })

    const cases: [string, (t: string) => string, string, number][] = [
        ['an unknown key', (t) => t.replace('- OPENAI_API_KEY_2', '- MISTRAL_API_KEY'), 'KF311', 14],
        ['a duplicate agent', (t) => t.replace('name: laptop', 'name: support-bot'), 'KF304', 8],
        ['a bad recipient', (t) => t.replace(recipient, 'age1notarecipient'), 'KF310', 11],
        // Passes the charset and length rule; only the bech32 checksum catches it (issue 13.9).
        ['a recipient with one changed character', (t) => t.replace(recipient, `${recipient.slice(0, 20)}${recipient[20] === 'q' ? 'p' : 'q'}${recipient.slice(21)}`), 'KF310', 11],
        ['an invalid namespace', (t) => t.replace('namespace: agents-dev', 'namespace: Agents_Dev'), 'KF306', 6],
        ['a namespace longer than 63 characters', (t) => t.replace('namespace: agents-dev', `namespace: ${'a'.repeat(64)}`), 'KF306', 6],
        ['an unknown cloud', (t) => t.replace('cloud: aws', 'cloud: digitalocean'), 'KF307', 4],
        ['an unknown target', (t) => t.replace('target: kubernetes', 'target: nomad'), 'KF308', 5],
        ['a bundle without recipient', (t) => t.replace(`    recipient: ${recipient}\n`, ''), 'KF309', 8],
        ['an unknown agent field', (t) => t.replace('    cloud: aws', '    cloud: aws\n    replicas: 3'), 'KF302', 5],
        ['an unknown top-level field', (t) => `${t}extra: 1\n`, 'KF302', 15],
        ['a kubernetes agent without namespace', (t) => t.replace('    namespace: agents-dev\n', ''), 'KF303', 3],
        ['an invalid agent name', (t) => t.replace('name: support-bot', 'name: Support_Bot'), 'KF305', 3],
        ['a YAML syntax error', (t) => t.replace('keys: [claude, OPENAI_API_KEY]', 'keys: [claude, OPENAI_API_KEY'), 'KF300', 8],
        ['an environment unknown to the catalog', (t) => t.replace('environment: dev', 'environment: qa'), 'KF313', 1],
        ['a relative mountPath', (t) => t.replace('    cloud: aws', '    cloud: aws\n    mountPath: secrets/../x'), 'KF314', 5],
        ['two agents patching one Deployment', (t) => t.replace('  - name: laptop\n    cloud: local\n    target: bundle\n', '  - name: laptop\n    cloud: local\n    target: kubernetes\n    namespace: agents-dev\n    deployment: support-bot\n').replace(`    recipient: ${recipient}\n`, ''), 'KF317', 8],
    ]

    it.each(cases)('reports %s with its code and line, and returns no deployment', (_what, edit, code, line) => {
        const parsed = parseDeployment(edit(good()), FILE, catalog)
        expect(parsed.deployment).toBeUndefined()
        const errors = parsed.findings.filter((f) => f.severity === 'error')
        expect(errors.map((f) => [f.code, f.line])).toContainEqual([code, line])
        for (const f of parsed.findings) expect(f.file).toBe(FILE)
    })

    it('reports a duplicate agent even when the second entry has other problems too', () => {
        const text = good().replace('name: laptop', 'name: support-bot').replace('cloud: local', 'cloud: mars')
        expect(errorsOf(text).map((f) => f.code)).toEqual(expect.arrayContaining(['KF304', 'KF307']))
    })

    it('never echoes an age secret key pasted as recipient', async () => {
        const { identity } = await generateIdentity()
        const findings = errorsOf(good().replace(recipient, identity))
        expect(findings.map((f) => f.code)).toContain('KF310')
        expect(JSON.stringify(findings)).not.toContain(identity.slice(15, 40))
    })

    it('warns (but accepts) a key listed twice under two spellings and fields a target ignores', () => {
        const text = good().replace('keys: [claude, OPENAI_API_KEY]', 'keys: [claude, ANTHROPIC_API_KEY, OPENAI_API_KEY]')
            .replace('    target: kubernetes\n', `    target: kubernetes\n    recipient: ${recipient}\n`)
        const parsed = parseDeployment(text, FILE, catalog)
        expect(parsed.findings.map((f) => [f.code, f.severity, f.line])).toEqual([['KF315', 'warning', 6], ['KF312', 'warning', 8]])
        expect(parsed.deployment?.agents[0]?.keys).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'])
        expect(parsed.deployment?.agents[0]?.recipient).toBeUndefined()
    })

    it('accepts a post-quantum hybrid recipient for a bundle host', async () => {
        const hybrid = (await generateIdentity('hybrid')).recipient
        expect(errorsOf(good().replace(recipient, hybrid))).toEqual([])
    })

    it('rejects an agent whose <env>-<name> would not fit a label value', () => {
        const long = 'a'.repeat(60)
        expect(errorsOf(good().replace('name: laptop', `name: ${long}`)).map((f) => [f.code, f.line])).toContainEqual(['KF305', 8])
    })

    it('rejects a document that is not a mapping, and agents that is not a list', () => {
        expect(errorsOf('- a\n- b\n').map((f) => f.code)).toEqual(['KF301'])
        expect(errorsOf('environment: dev\nagents: {}\n').map((f) => [f.code, f.line])).toEqual([['KF301', 2]])
    })
})
