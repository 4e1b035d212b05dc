/**
 * `keyfleet check <env>`: the keyed offline checks of one environment
 * (format rule, placeholder, one value under two names) and, with `--live`,
 * each key tried against its provider (src/probe). See docs/live-check.md.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { formatFinding, hasErrors, sortFindings, type Finding } from '../../findings.js'
import { BATCH_DEFAULTS, checkEnvironment, checkText, parseAllowedOrigins, PROBE_DEFAULTS, probeFindings, type ProbeResult } from '../../probe/index.js'
import { parseDeployment } from '../../render/deployment.js'
import { regionBaseUrls } from '../../render/regions.js'
import { parseSopsFile } from '../../sops/native/parse.js'
import { checkKeyed } from '../../validate/keyed.js'
import type { CliContext, Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { decryptNative, nativeIdentities, openRepo } from '../repo-context.js'
import { existingSecrets } from '../secret-target.js'

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [])

/** `--base-url provider=url` pairs. @throws KeyfleetError `USAGE`. */
const parseBaseUrls = (specs: readonly string[]): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const spec of specs) {
        const eq = spec.indexOf('=')
        if (eq <= 0 || eq === spec.length - 1) throw new KeyfleetError('USAGE', `--base-url takes PROVIDER=URL, e.g. --base-url openai=https://gateway.example.com/openai (got "${spec.slice(0, 60)}")`)
        out[spec.slice(0, eq)] = spec.slice(eq + 1)
    }
    return out
}

/** A whole-number option of at least `min`. @throws KeyfleetError `USAGE`. */
const intOption = (value: unknown, flag: string, min = 1): number | undefined => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!/^\d+$/.test(String(value)) || n < min) throw new KeyfleetError('USAGE', `--${flag} takes a whole number of at least ${min} (got "${String(value).slice(0, 20)}")`)
    return n
}

/** A one-line progress display on a TTY stderr; silent otherwise (CI logs stay clean). */
const progressLine = (ctx: CliContext): { update: (done: number, total: number, name: string) => void; clear: () => void } => {
    if (ctx.stderr.isTTY !== true) return { update: () => undefined, clear: () => undefined }
    return {
        update: (done, total, name) => { ctx.stderr.write(`\r\x1b[2Kchecking ${done}/${total} ${name}`) },
        clear: () => { ctx.stderr.write('\r\x1b[2K') },
    }
}

export const command: Command = {
    name: 'check',
    summary: 'Check one environment\'s keys: format and placeholders, and with --live ask each provider',
    usage: 'check <env> [--live] [--strict] [--json] [--base-url PROVIDER=URL]... [options]',
    positionals: [1, 1],
    help: `Decrypts the environment in process (no sops needed) and checks each value against its
provider's format rule, for placeholders and for one value stored under two names.
With --live, each provider key is also tried with the provider's cheapest authenticated
call (listing models); the key travels only in a header, over https, to the provider's
origin (or the --base-url you give). Values failing their format rule are not sent.
  valid (2xx)            ok
  invalid (401, 403)     error KF500: the key is revoked, mistyped or another account's
  limited (402, 429)     warning KF501: rate limited, out of quota or credit
  unknown (timeout, 5xx) notice KF502, retried first; an error with --strict
Exit: 0 no errors, 1 error findings, 2 usage or no keys to check (NOTHING_TO_CHECK),
3 cannot decrypt. Details: docs/live-check.md.

Examples:
  SOPS_AGE_KEY_FILE=examples/demo-keys/dev.agekey keyfleet check dev
  keyfleet check prod --live --identity-file prod.agekey
  keyfleet check prod --live --strict --json --base-url openai=https://llm-gateway.internal/openai`,
    options: {
        live: { type: 'boolean', description: 'Also ask each provider whether the key works' },
        strict: { type: 'boolean', description: 'Treat keys that could not be checked (unknown) as errors' },
        json: { type: 'boolean', description: 'Print JSON: { env, live, results, findings, errors, warnings }' },
        'allowed-origins': { type: 'string', multiple: true, arg: 'ORIGINS', description: 'Origins (comma-separated) the catalog may send probes to besides the built-in providers\' (also KEYFLEET_ALLOWED_ORIGINS)' },
        'base-url': { type: 'string', multiple: true, arg: 'PROVIDER=URL', description: 'Send one provider\'s probe to a proxy or gateway (https; http only on localhost)' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY)' },
        'timeout-ms': { type: 'string', arg: 'N', description: `Per-request timeout (default ${PROBE_DEFAULTS.timeoutMs})` },
        concurrency: { type: 'string', arg: 'N', description: `Probes in flight at most (default ${BATCH_DEFAULTS.concurrency})` },
        'deadline-ms': { type: 'string', arg: 'N', description: `Total time for all probes (default ${BATCH_DEFAULTS.deadlineMs})` },
        retries: { type: 'string', arg: 'N', description: `Retries of an unknown answer (default ${PROBE_DEFAULTS.retries}; 0 allowed)` },
    },
    run: async ({ positionals, values }, ctx) => {
        const [env] = positionals as [string]
        const live = values.live === true
        const strict = values.strict === true
        // Options are checked before decrypting, so a typo costs nothing.
        const baseUrls = parseBaseUrls(list(values['base-url']))
        // The allow-list comes from the operator (flag or environment), never from the repository a PR can change.
        const allowedOrigins = parseAllowedOrigins([...list(values['allowed-origins']), ctx.env.KEYFLEET_ALLOWED_ORIGINS ?? ''].flatMap((v) => v.split(',')))
        const timeoutMs = intOption(values['timeout-ms'], 'timeout-ms')
        const concurrency = intOption(values.concurrency, 'concurrency')
        const deadlineMs = intOption(values['deadline-ms'], 'deadline-ms')
        const retries = intOption(values.retries, 'retries', 0)
        const liveOnly = Object.keys(baseUrls).length > 0 || [timeoutMs, concurrency, deadlineMs, retries].some((v) => v !== undefined)
        if (!live && liveOnly) {
            throw new KeyfleetError('USAGE', '--base-url, --timeout-ms, --concurrency, --deadline-ms and --retries only apply with --live')
        }

        const repo = openRepo(ctx)
        const target = existingSecrets(repo, env)
        const file = target.paths.secrets
        const identities = nativeIdentities(ctx, values['identity-file'] as string | undefined)
        if (identities.length === 0) throw new KeyfleetError('IDENTITY_MISSING', `no age identity for ${env}: pass --identity-file or set SOPS_AGE_KEY_FILE / SOPS_AGE_KEY`)
        const text = readFileSync(target.file, 'utf8')
        const lines = new Map<string, number>()
        for (const leaf of parseSopsFile(text, { store: 'dotenv', file }).leaves) {
            const [name] = leaf.path
            if (leaf.path.length === 1 && name !== undefined && leaf.line !== undefined) lines.set(name, leaf.line)
        }
        // Decrypt here first so a wrong identity or a tampered file is exit 3, not a finding.
        const secrets = (await decryptNative(text, { store: 'dotenv', identities, file })).toEnvMap()
        // "ok" over zero keys would read as a pass (issue 12 item 7): nothing checked is a failure.
        if (secrets.size === 0) {
            throw new KeyfleetError('NOTHING_TO_CHECK', `${file} holds no keys, so nothing was checked; add one with \`keyfleet set ${env} NAME\` (or \`keyfleet import ${env} .env\`) and check again`, { file })
        }

        const findings: Finding[] = await checkKeyed([{ env, file, text, identities, lineOf: (name) => lines.get(name) }], repo.index, undefined)
        let results: ProbeResult[] | undefined
        if (live) {
            const progress = progressLine(ctx)
            // Regional endpoints for the variants; the probe sends a key there only if its origin is trusted.
            const deploymentFile = join(repo.root, target.paths.deployment)
            const deployment = existsSync(deploymentFile) ? parseDeployment(readFileSync(deploymentFile, 'utf8'), target.paths.deployment, repo.catalog).deployment : undefined
            try {
                results = await checkEnvironment({
                    env, values: secrets, catalog: repo.catalog, baseUrls, allowedOrigins,
                    ...(deployment === undefined ? {} : { regionBaseUrls: regionBaseUrls(deployment) }),
                    ...(timeoutMs === undefined ? {} : { timeoutMs }),
                    ...(concurrency === undefined ? {} : { concurrency }),
                    ...(deadlineMs === undefined ? {} : { deadlineMs }),
                    ...(retries === undefined ? {} : { retries }),
                    onProgress: ({ done, total, result }) => progress.update(done, total, result.name),
                })
            } finally {
                progress.clear()
            }
            // Offline findings already explain skipped placeholders and malformed values; keep one finding per problem.
            const explained = new Set(findings.map((f) => f.line))
            findings.push(...probeFindings(results, file, lines, { strict })
                .filter((f) => !(f.code === 'KF503' && f.line !== undefined && explained.has(f.line))))
        }
        const sorted = sortFindings(findings)
        const errors = sorted.filter((f) => f.severity === 'error').length
        const warnings = sorted.filter((f) => f.severity === 'warning').length
        if (values.json === true) {
            ctx.stdout.write(`${JSON.stringify({ env, file, live, strict, keys: secrets.size, results: results ?? [], findings: sorted, errors, warnings }, null, 2)}\n`)
        } else {
            if (results) ctx.stdout.write(checkText(results))
            for (const f of sorted) ctx.stdout.write(`${formatFinding(f)}\n`)
            const what = live ? `${secrets.size} key(s) checked offline and live` : `${secrets.size} key(s) checked offline (add --live to ask the providers)`
            ctx.stdout.write(`${errors === 0 && warnings === 0 ? 'ok' : `${errors} error(s), ${warnings} warning(s)`}: ${env}, ${what}\n`)
        }
        return hasErrors(sorted) ? ExitCode.findings : ExitCode.ok
    },
}
