/**
 * A throw-away keyfleet repository for validation tests: a git repo in a
 * temp dir with a `.sops.yaml` in the demo's pattern (one rule per
 * environment: its CI recipient plus an admin), a catalog, deployments, and
 * env.secrets files written by the real pinned sops with fresh identities.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { generateX25519Identity, identityToRecipient } from 'age-encryption'
import { sopsPath } from '../helpers/tools.js'

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** Random letters and digits. */
export const alnum = (n: number): string => [...randomBytes(n)].map((b) => ALNUM[b % ALNUM.length]).join('')

/** Fresh fake keys that pass each provider's format rule (built at run time so no source file holds one). */
export const fakeKey = {
    claude: (): string => `sk-ant-api03-${alnum(48)}`,
    openai: (): string => `sk-proj-${alnum(40)}`,
    gemini: (): string => `AIza${alnum(35)}`,
    fireworks: (): string => `fw_${alnum(24)}`,
    deepinfra: (): string => alnum(32),
    gateway: (): string => `gw_${alnum(30)}`,
}

/** A test catalog: dev and prod; claude and openai required everywhere, the gateway token in prod. */
export const CATALOG = `version: 1
environments: [dev, prod] # promotion order
providers:
  claude:
    env: ANTHROPIC_API_KEY
    aliases: [CLAUDE_API_KEY]
    format: '^sk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}$'
    required_in: [dev, prod]
  openai:
    env: OPENAI_API_KEY
    format: '^sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}$'
    required_in: [dev, prod]
  gemini:
    env: GEMINI_API_KEY
    format: '^AIza[0-9A-Za-z_-]{35}$'
  deepinfra:
    env: DEEPINFRA_API_KEY
    format: '^[A-Za-z0-9]{32}$'
custom:
  AGENT_GATEWAY_TOKEN:
    service: gateway
    format: '^gw_[A-Za-z0-9]{24,}$'
    required_in: [prod]
`

export const DEPLOYMENT = (env: string, keys = '[claude, openai]'): string => `environment: ${env}
agents:
  - name: support-bot
    cloud: aws
    target: kubernetes
    namespace: agents-${env}
    keys: ${keys}
  - name: research-agent
    cloud: gcp
    target: kubernetes
    namespace: agents-${env}
    keys: [openai]
`

/** An age identity and its recipient. */
export interface Id { readonly identity: string; readonly recipient: string }

const newId = async (): Promise<Id> => {
    const identity = await generateX25519Identity()
    return { identity, recipient: await identityToRecipient(identity) }
}

/** A temp keyfleet repository. */
export interface Fixture {
    readonly root: string
    /** CI identity per environment, and `admin` (recipient of every rule). */
    readonly ids: Record<'dev' | 'prod' | 'admin' | 'stranger', Id>
    /** Writes a repo-relative file. */
    write(path: string, text: string): void
    read(path: string): string
    /** Runs git in the repo; returns stdout. */
    git(...args: string[]): string
    /** `git add -A && git commit`. */
    commit(message: string): void
    /** Writes `.sops.yaml` with the given recipients per environment (default: CI + admin). */
    writeSopsConfig(recipients?: Partial<Record<'dev' | 'prod', string[]>>): void
    /** Encrypts `entries` into environments/<env>/env.secrets with the real sops (plaintext through stdin). */
    encrypt(env: 'dev' | 'prod', entries: Record<string, string>): void
    /** `sops set` one value through stdin, with the admin identity in SOPS_AGE_KEY. */
    set(env: 'dev' | 'prod', name: string, value: string): void
    /** Runs sops with the admin identity; returns stdout. */
    sops(args: string[], input?: string): string
    cleanup(): void
}

/**
 * Creates a fixture with the catalog, deployments and a valid env.secrets
 * per environment, committed once. `values` holds the plaintext it used.
 */
/** The plaintext a fixture starts with. */
export interface FixtureValues {
    readonly dev: { readonly ANTHROPIC_API_KEY: string; readonly OPENAI_API_KEY: string }
    readonly prod: { readonly ANTHROPIC_API_KEY: string; readonly OPENAI_API_KEY: string; readonly AGENT_GATEWAY_TOKEN: string; readonly DEEPINFRA_API_KEY: string }
}

export const makeFixture = async (): Promise<Fixture & { values: FixtureValues }> => {
    const root = mkdtempSync(join(tmpdir(), 'keyfleet-validate-'))
    const ids = { dev: await newId(), prod: await newId(), admin: await newId(), stranger: await newId() }
    const sops = sopsPath()
    const env = { ...process.env, SOPS_AGE_KEY: ids.admin.identity, GIT_CONFIG_NOSYSTEM: '1', HOME: root }
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const runSops = (args: string[], input?: string): string =>
        execFileSync(sops, args, { cwd: root, env, encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] })
    const write = (path: string, text: string): void => {
        mkdirSync(dirname(join(root, path)), { recursive: true })
        writeFileSync(join(root, path), text)
    }
    const fixture: Fixture = {
        root, ids, write, git,
        read: (path) => readFileSync(join(root, path), 'utf8'),
        commit: (message) => { git('add', '-A'); git('commit', '-q', '-m', message) },
        writeSopsConfig: (recipients = {}) => {
            const rule = (e: 'dev' | 'prod'): string => {
                const list = recipients[e] ?? [ids[e].recipient, ids.admin.recipient]
                return `  - path_regex: ^environments/${e}/[^/]+$\n    age:\n${list.map((r, i) => `      - ${r} # ${i === 0 ? `ci:${e}` : 'admin'}\n`).join('')}`
            }
            write('.sops.yaml', `# one rule per environment\ncreation_rules:\n${rule('dev')}${rule('prod')}`)
        },
        encrypt: (e, entries) => {
            const plain = Object.entries(entries).map(([k, v]) => `${k}=${v}\n`).join('')
            const path = `environments/${e}/env.secrets`
            write(path, runSops(['encrypt', '--filename-override', path, '--input-type', 'dotenv', '--output-type', 'dotenv'], plain))
        },
        set: (e, name, value) => {
            runSops(['set', '--value-stdin', '--input-type', 'dotenv', '--output-type', 'dotenv', `environments/${e}/env.secrets`, JSON.stringify([name])], JSON.stringify(value))
        },
        sops: runSops,
        cleanup: () => rmSync(root, { recursive: true, force: true }),
    }
    git('init', '-q', '-b', 'main')
    git('config', 'user.email', 'test@example.com')
    git('config', 'user.name', 'test')
    git('config', 'commit.gpgsign', 'false')
    fixture.writeSopsConfig()
    write('environments/keyfleet.yaml', CATALOG)
    write('environments/dev/deployment.yaml', DEPLOYMENT('dev'))
    write('environments/prod/deployment.yaml', DEPLOYMENT('prod'))
    const values: FixtureValues = {
        dev: { ANTHROPIC_API_KEY: fakeKey.claude(), OPENAI_API_KEY: fakeKey.openai() },
        prod: { ANTHROPIC_API_KEY: fakeKey.claude(), OPENAI_API_KEY: fakeKey.openai(), AGENT_GATEWAY_TOKEN: fakeKey.gateway(), DEEPINFRA_API_KEY: fakeKey.deepinfra() },
    }
    fixture.encrypt('dev', values.dev)
    fixture.encrypt('prod', values.prod)
    fixture.commit('initial')
    return { ...fixture, values }
}
