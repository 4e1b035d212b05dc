/**
 * `keyfleet validate`: every rule over the repository. Key-less unless an
 * identity is available, then keyed for the environments it can open.
 * Also exports the identity gathering shared with `keyfleet diff`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { noIdentityError, repoRootFor, sopsIdentityLookup } from '../repo-context.js'
import { parseIdentityFile } from '../../age/identity-file.js'
import { KeyfleetError } from '../../errors.js'
import { formatFinding, hasErrors, sortFindings, type Finding } from '../../findings.js'
import { parseAllowedOrigins } from '../../probe/index.js'
import { parseSopsFile } from '../../sops/native/parse.js'
import { EMPTY_TREE, discoverEnvironments, finding, headState, readRepoCatalog, secretsPath, validateRepository } from '../../validate/index.js'
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

/** What {@link gatherIdentityDetail} found. */
export interface IdentityDetail {
    /** Environment → identities to run the keyed checks with. */
    readonly identities: Record<string, string[]>
    /** Where identities for any environment came from (`--identity-file FILE`, `SOPS_AGE_KEY`, …); empty when none. */
    readonly anySources: readonly string[]
    /** Environments given an identity from {@link anySources} (not from `--identity ENV=FILE`). */
    readonly anyAssigned: readonly string[]
}

/**
 * Collects identities per environment: `--identity env=FILE` for that
 * environment; `--identity-file`, `SOPS_AGE_KEY` and `SOPS_AGE_KEY_FILE` for
 * every environment (of `envs`) whose env.secrets lists their recipient, or
 * for all of `envs` when the user named them explicitly.
 * @throws KeyfleetError `USAGE` for a malformed `--identity` or `SOPS_AGE_KEY`,
 *   `IDENTITY_NOT_FOUND` for an unreadable file, `AGE_BAD_IDENTITY_FILE` for a file that is not keys.txt format.
 */
export const gatherIdentityDetail = async (
    args: CommandArgs, ctx: CliContext, root: string, envs: readonly string[], explicitEnvs: boolean,
): Promise<IdentityDetail> => {
    const out: Record<string, string[]> = {}
    for (const spec of list(args.values.identity)) {
        const eq = spec.indexOf('=')
        if (eq <= 0) throw new KeyfleetError('USAGE', `--identity takes ENV=FILE, e.g. --identity prod=prod.agekey (got "${spec.slice(0, 40)}")`)
        const env = spec.slice(0, eq)
        out[env] = [...(out[env] ?? []), ...readIdentities(spec.slice(eq + 1), ctx.cwd)]
    }
    const global: string[] = []
    const anySources: string[] = []
    for (const file of list(args.values['identity-file'])) {
        global.push(...readIdentities(file, ctx.cwd))
        anySources.push(`--identity-file ${file}`)
    }
    if (args.values.keyless !== true) {
        // Where sops looks (repo-context.ts): SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, the user config keys.txt.
        // A source that is set but unusable while nothing else is found is an error, not a silent key-less run.
        // A set SSH variable is named too: keyfleet cannot read it, and a key-less run would hide that.
        // (~/.ssh/id_ed25519 alone does not count: most machines have one, and key-less is validate's normal mode.)
        const found = sopsIdentityLookup(ctx)
        const ssh = ['SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_SSH_PRIVATE_KEY_CMD'].filter((name) => ctx.env[name] !== undefined)
        const named = ['SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD'].some((name) => (ctx.env[name] ?? '') !== '')
        if (found.identities.length === 0 && (named || ssh.length > 0) && found.errors.length > 0) throw noIdentityError(found, ssh)
        global.push(...found.identities)
        anySources.push(...found.used)
    }
    const anyAssigned: string[] = []
    if (global.length === 0) return { identities: out, anySources, anyAssigned }
    const recipients = new Set<string>()
    // age-encryption loads only when validate was given identities (issue 15).
    const { recipientOf } = await import('../../age/identity.js')
    for (const identity of global) recipients.add(await recipientOf(identity))
    for (const env of envs) {
        if (out[env]) continue
        const file = join(root, secretsPath(env))
        if (explicitEnvs) { out[env] = global; anyAssigned.push(env); continue }
        if (!existsSync(file)) continue
        try {
            const { metadata } = parseSopsFile(readFileSync(file, 'utf8'), { store: 'dotenv', file: secretsPath(env) })
            if (metadata.age.some((a) => recipients.has(a.recipient))) { out[env] = global; anyAssigned.push(env) }
        } catch {
            // Key-less validation reports the broken file; no identity is assigned to it.
        }
    }
    return { identities: out, anySources, anyAssigned }
}

/** {@link gatherIdentityDetail}, identities only. @throws as gatherIdentityDetail. */
export const gatherIdentities = async (
    args: CommandArgs, ctx: CliContext, root: string, envs: readonly string[], explicitEnvs: boolean,
): Promise<Record<string, string[]>> => (await gatherIdentityDetail(args, ctx, root, envs, explicitEnvs)).identities

/**
 * KF140 for each environment validated when identities were supplied for any
 * environment and they open none: a deploy job with a wrong key must not pass
 * as a clean key-less run. Environments with their own `--identity` or no
 * env.secrets (KF106) are left to their own findings.
 */
const unopenedFindings = (detail: IdentityDetail, root: string, envs: readonly string[]): Finding[] => {
    if (detail.anySources.length === 0 || detail.anyAssigned.length > 0) return []
    return envs.filter((env) => !detail.identities[env] && existsSync(join(root, secretsPath(env)))).map((env) =>
        finding('KF140', secretsPath(env), undefined,
            `no identity given opens ${env}: ${detail.anySources.join(', ')} ${detail.anySources.length > 1 ? 'hold' : 'holds'} no identity of this file's recipients, so the keyed checks could not run; use the environment's identity (e.g. --identity ${env}=FILE), or give none for a key-less run (--keyless ignores SOPS_AGE_KEY and SOPS_AGE_KEY_FILE)`))
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
An identity that opens none of the environments checked is an error (KF140), not a
silent key-less run; a malformed SOPS_AGE_KEY is a usage error (exit 2).
Codes: docs/validation.md. Exit: 0 clean, 1 error findings, 2 usage or internal error, or
no environment at all to check (NOTHING_TO_CHECK).

Examples:
  keyfleet validate --base origin/main
  keyfleet validate --all --json
  keyfleet validate --env prod --identity prod=examples/demo-keys/prod.agekey`,
    options: {
        env: { type: 'string', multiple: true, arg: 'ENV', description: 'check only this environment (repeatable)' },
        base: { type: 'string', arg: 'REF', description: 'scan the files changed since this git ref for plaintext keys' },
        all: { type: 'boolean', description: 'scan every tracked file for plaintext keys' },
        'allowed-origins': { type: 'string', multiple: true, arg: 'ORIGINS', description: 'probe origins (comma-separated) the catalog may use besides the built-in providers\' (also KEYFLEET_ALLOWED_ORIGINS)' },
        ...identityOptions,
        json: { type: 'boolean', description: 'print findings as JSON' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: the nearest directory at or above the current one holding .sops.yaml or environments/keyfleet.yaml)' },
    },
    positionals: [0, 0],
    run: async (args, ctx) => {
        const root = repoRootFor(ctx, args.values.root)
        const envs = list(args.values.env)
        let base = typeof args.values.base === 'string' ? args.values.base : undefined
        const all = args.values.all === true
        // Without --base/--all, look at what is about to be committed: changes against HEAD,
        // or, before the first commit, everything staged or untracked (against git's empty tree).
        if (base === undefined && !all) {
            const head = await headState(root)
            if (head !== 'none') base = head === 'commit' ? 'HEAD' : EMPTY_TREE
        }
        // A missing or broken catalog's built-in stand-in would invent environments: trust the directories then.
        const repoCatalog = readRepoCatalog(root)
        const known = discoverEnvironments(root, repoCatalog.valid ? repoCatalog.catalog : { ...repoCatalog.catalog, environments: [] })
        const targets = envs.length > 0 ? envs : known
        // Every per-environment rule would pass vacuously (issue 12 item 7): a repository with no environment is a failure.
        if (targets.length === 0) {
            throw new KeyfleetError('NOTHING_TO_CHECK', `${root} has no environment to validate (no environments/<env>/ directory, none listed in environments/keyfleet.yaml), so nothing was checked; add one with \`keyfleet env add dev\``)
        }
        const detail = await gatherIdentityDetail(args, ctx, root, targets, envs.length > 0)
        const { identities } = detail
        const repoFindings = await validateRepository({
            root, identities, all,
            // The allow-list comes from the operator, never from the repository (KF124).
            allowedOrigins: parseAllowedOrigins([...((args.values['allowed-origins'] as string[] | undefined) ?? []), ctx.env.KEYFLEET_ALLOWED_ORIGINS ?? ''].flatMap((v) => v.split(','))),
            ...(envs.length > 0 ? { environments: envs } : {}),
            ...(base === undefined ? {} : { base }),
        })
        const findings = sortFindings([...repoFindings, ...unopenedFindings(detail, root, targets)])
        const keyed = Object.keys(identities).sort()
        const errors = findings.filter((f) => f.severity === 'error').length
        const warnings = findings.filter((f) => f.severity === 'warning').length
        if (args.values.json === true) {
            ctx.stdout.write(`${JSON.stringify({ findings, errors, warnings, keyed, scanned: all ? 'all' : base === EMPTY_TREE ? 'staged' : base ?? 'none' }, null, 2)}\n`)
        } else {
            for (const f of findings) ctx.stdout.write(`${formatFinding(f)}\n`)
            const mode = keyed.length > 0 ? `keyed for ${keyed.join(', ')}` : 'key-less'
            const scope = all ? 'every tracked file' : base === EMPTY_TREE ? 'every staged and untracked file (no commit yet)' : base ? `changes since ${base}` : 'no files (not a git repository)'
            ctx.stdout.write(`${findings.length === 0 ? 'ok: no findings' : `${errors} error(s), ${warnings} warning(s)`} (${mode}; scanned ${scope})\n`)
        }
        return hasErrors(findings) ? ExitCode.findings : ExitCode.ok
    },
}
