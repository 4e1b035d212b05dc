/**
 * `keyfleet validate`: every rule over the repository. Key-less unless an
 * identity is available, then keyed for the environments it can open.
 * Also exports the identity gathering shared with `keyfleet diff`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { parseIdentityFile, recipientOf } from '../../age/index.js'
import { KeyfleetError } from '../../errors.js'
import { formatFinding, hasErrors } from '../../findings.js'
import { parseSopsFile } from '../../sops/native/index.js'
import { discoverEnvironments, isGitRepo, readRepoCatalog, resolveRef, secretsPath, validateRepository } from '../../validate/index.js'
import type { CliContext, Command, CommandArgs } from '../command.js'
import { ExitCode } from '../exit-codes.js'

/** Options every keyed command shares. */
export const identityOptions = {
    'identity-file': { type: 'string', multiple: true, arg: 'FILE', description: 'age identity file (keys.txt format); used for every environment it can decrypt' },
    identity: { type: 'string', multiple: true, arg: 'ENV=FILE', description: 'age identity file for one environment, e.g. prod=/run/secrets/prod.agekey' },
    keyless: { type: 'boolean', description: 'ignore SOPS_AGE_KEY / SOPS_AGE_KEY_FILE and run key-less only' },
} as const

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [])

const readIdentities = (path: string, cwd: string): string[] => {
    const full = isAbsolute(path) ? path : resolve(cwd, path)
    let text: string
    try {
        text = readFileSync(full, 'utf8')
    } catch {
        throw new KeyfleetError('IDENTITY_NOT_FOUND', `cannot read the identity file ${path}: check the path and its permissions`)
    }
    return parseIdentityFile(text, path)
}

/**
 * Collects identities per environment: `--identity env=FILE` for that
 * environment; `--identity-file`, `SOPS_AGE_KEY` and `SOPS_AGE_KEY_FILE` for
 * every environment (of `envs`) whose env.secrets lists their recipient, or
 * for all of `envs` when the user named them explicitly.
 * @throws KeyfleetError `USAGE` for a malformed `--identity`, `IDENTITY_NOT_FOUND` for an unreadable file.
 */
export const gatherIdentities = async (
    args: CommandArgs, ctx: CliContext, root: string, envs: readonly string[], explicitEnvs: boolean,
): Promise<Record<string, string[]>> => {
    const out: Record<string, string[]> = {}
    for (const spec of list(args.values.identity)) {
        const eq = spec.indexOf('=')
        if (eq <= 0) throw new KeyfleetError('USAGE', `--identity takes ENV=FILE, e.g. --identity prod=prod.agekey (got "${spec.slice(0, 40)}")`)
        const env = spec.slice(0, eq)
        out[env] = [...(out[env] ?? []), ...readIdentities(spec.slice(eq + 1), ctx.cwd)]
    }
    const global: string[] = []
    for (const file of list(args.values['identity-file'])) global.push(...readIdentities(file, ctx.cwd))
    if (args.values.keyless !== true) {
        const fromEnv = ctx.env.SOPS_AGE_KEY
        if (fromEnv) global.push(...fromEnv.split(/\s+/).filter((s) => s.startsWith('AGE-SECRET-KEY-')))
        const keyFile = ctx.env.SOPS_AGE_KEY_FILE
        if (keyFile) global.push(...readIdentities(keyFile, ctx.cwd))
    }
    if (global.length === 0) return out
    const recipients = new Set<string>()
    for (const identity of global) recipients.add(await recipientOf(identity))
    for (const env of envs) {
        if (out[env]) continue
        const file = join(root, secretsPath(env))
        if (explicitEnvs) { out[env] = global; continue }
        if (!existsSync(file)) continue
        try {
            const { metadata } = parseSopsFile(readFileSync(file, 'utf8'), { store: 'dotenv', file: secretsPath(env) })
            if (metadata.age.some((a) => recipients.has(a.recipient))) out[env] = global
        } catch {
            // Key-less validation reports the broken file; no identity is assigned to it.
        }
    }
    return out
}

/** `--root` or the working directory. */
export const rootOf = (args: CommandArgs, ctx: CliContext): string =>
    typeof args.values.root === 'string' ? resolve(ctx.cwd, args.values.root) : ctx.cwd

export const command: Command = {
    name: 'validate',
    summary: 'Check the repository: encryption, recipients, names, schemas, plaintext keys (keyed with an identity)',
    usage: 'validate [options]',
    help: `Runs every key-less rule: env.secrets is a complete SOPS dotenv file with every value
encrypted to exactly the recipients of its .sops.yaml rule; names are UPPER_SNAKE, unique,
known to the catalog, required ones present, deployment keys defined; keyfleet.yaml and
deployment.yaml follow their schemas; no plaintext provider key in the change (--base),
every tracked file (--all) or, by default, in uncommitted changes.
With an identity (--identity-file, --identity ENV=FILE, SOPS_AGE_KEY, SOPS_AGE_KEY_FILE) the
environments it can open are also checked keyed: MAC, formats, placeholders, shared keys.
Codes: docs/validation.md. Exit: 0 clean, 1 error findings, 2 usage or internal error.

Examples:
  keyfleet validate --base origin/main
  keyfleet validate --all --json
  keyfleet validate --env prod --identity prod=examples/demo-keys/prod.agekey`,
    options: {
        env: { type: 'string', multiple: true, arg: 'ENV', description: 'check only this environment (repeatable)' },
        base: { type: 'string', arg: 'REF', description: 'scan the files changed since this git ref for plaintext keys' },
        all: { type: 'boolean', description: 'scan every tracked file for plaintext keys' },
        ...identityOptions,
        json: { type: 'boolean', description: 'print findings as JSON' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: current directory)' },
    },
    positionals: [0, 0],
    run: async (args, ctx) => {
        const root = rootOf(args, ctx)
        const envs = list(args.values.env)
        let base = typeof args.values.base === 'string' ? args.values.base : undefined
        const all = args.values.all === true
        // Without --base/--all, look at what is about to be committed: changes against HEAD.
        if (base === undefined && !all && await isGitRepo(root)) {
            base = await resolveRef(root, 'HEAD').then(() => 'HEAD', () => undefined)
        }
        const known = discoverEnvironments(root, readRepoCatalog(root).catalog)
        const identities = await gatherIdentities(args, ctx, root, envs.length > 0 ? envs : known, envs.length > 0)
        const findings = await validateRepository({
            root, identities, all,
            ...(envs.length > 0 ? { environments: envs } : {}),
            ...(base === undefined ? {} : { base }),
        })
        const keyed = Object.keys(identities).sort()
        const errors = findings.filter((f) => f.severity === 'error').length
        const warnings = findings.filter((f) => f.severity === 'warning').length
        if (args.values.json === true) {
            ctx.stdout.write(`${JSON.stringify({ findings, errors, warnings, keyed, scanned: all ? 'all' : base ?? 'none' }, null, 2)}\n`)
        } else {
            for (const f of findings) ctx.stdout.write(`${formatFinding(f)}\n`)
            const mode = keyed.length > 0 ? `keyed for ${keyed.join(', ')}` : 'key-less'
            const scope = all ? 'every tracked file' : base ? `changes since ${base}` : 'no files (not a git repository)'
            ctx.stdout.write(`${findings.length === 0 ? 'ok: no findings' : `${errors} error(s), ${warnings} warning(s)`} (${mode}; scanned ${scope})\n`)
        }
        return hasErrors(findings) ? ExitCode.findings : ExitCode.ok
    },
}
