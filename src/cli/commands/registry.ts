/**
 * `keyfleet registry <env>`: which agent reads which key, and which agents a
 * rotation of each key touches. Key-less: reads deployment.yaml and the
 * catalog only. Also exports the deployment loading `keyfleet render` shares.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRootFor } from '../repo-context.js'
import { loadCatalog } from '../../catalog/parse.js'
import type { Catalog } from '../../catalog/types.js'
import { KeyfleetError } from '../../errors.js'
import { formatFinding, hasErrors } from '../../findings.js'
import { parseDeployment } from '../../render/deployment.js'
import { buildRegistry, type Registry } from '../../render/registry.js'
import { registryJson, registryMarkdown, registryText } from '../../render/registry-format.js'
import type { Deployment } from '../../render/types.js'
import { assertEnvironment, CATALOG_PATH } from '../../repo/layout.js'
import type { CliContext, Command, CommandArgs } from '../command.js'
import { ExitCode } from '../exit-codes.js'

/** Registry output formats accepted by `--format` / `--registry`. */
export const REGISTRY_FORMATS = ['text', 'json', 'markdown'] as const

/**
 * The registry in `format`.
 * @throws KeyfleetError `USAGE` for an unknown format.
 */
export const formatRegistry = (registry: Registry, format: string, flag: string): string => {
    if (format === 'text') return registryText(registry)
    if (format === 'json') return registryJson(registry)
    if (format === 'markdown') return registryMarkdown(registry)
    throw new KeyfleetError('USAGE', `${flag} takes one of ${REGISTRY_FORMATS.join(', ')} (got "${format.slice(0, 20)}")`)
}

/** `--root` or the working directory. */
export const rootFrom = (args: CommandArgs, ctx: CliContext): string => repoRootFor(ctx, args.values.root)

/**
 * Reads the catalog and `environments/<env>/deployment.yaml`, printing every
 * finding (warnings too) to stderr.
 * @returns the deployment, or undefined when it has error findings (already printed).
 * @throws KeyfleetError `ENV_UNKNOWN`, `CATALOG_*`, `DEPLOYMENT_NOT_FOUND`.
 */
export const loadDeployment = (root: string, env: string, ctx: CliContext): { catalog: Catalog; deployment: Deployment | undefined } => {
    const catalog = loadCatalog(join(root, CATALOG_PATH))
    const paths = assertEnvironment(root, env, catalog.environments)
    let text: string
    try {
        text = readFileSync(join(root, paths.deployment), 'utf8')
    } catch (cause) {
        throw new KeyfleetError('DEPLOYMENT_NOT_FOUND', `cannot read ${paths.deployment}: create it (schema: docs/deployment.md)`, { cause, file: paths.deployment })
    }
    const { deployment, findings } = parseDeployment(text, paths.deployment, catalog)
    for (const finding of findings) ctx.stderr.write(`${formatFinding(finding)}\n`)
    if (hasErrors(findings) || !deployment) return { catalog, deployment: undefined }
    if (deployment.environment !== env) {
        ctx.stderr.write(`${paths.deployment}: error KF313 \`environment\` says "${deployment.environment}" but the file is in environments/${env}/: make them agree\n`)
        return { catalog, deployment: undefined }
    }
    return { catalog, deployment }
}

export const command: Command = {
    name: 'registry',
    summary: 'Show which agent reads which key, and which agents a key rotation touches (no key needed)',
    usage: 'registry <env> [--format text|json|markdown]',
    help: `Reads environments/<env>/deployment.yaml and the catalog; needs no identity.
The markdown form carries a mermaid graph (graph LR) that GitHub draws in pull
requests and step summaries. Exit: 0 ok, 1 deployment.yaml has errors, 2 usage.

Examples:
  keyfleet registry prod
  keyfleet registry prod --format markdown >> "$GITHUB_STEP_SUMMARY"
  keyfleet registry dev --format json | jq '.keys[] | select(.name=="OPENAI_API_KEY").agents'`,
    options: {
        format: { type: 'string', arg: 'FORMAT', description: 'text (default), json or markdown' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: the nearest directory at or above the current one holding .sops.yaml or environments/keyfleet.yaml)' },
    },
    positionals: [1, 1],
    run: async (args, ctx) => {
        const env = args.positionals[0] as string
        const format = typeof args.values.format === 'string' ? args.values.format : 'text'
        formatRegistry({ keyfleet: 'registry/v1', environment: env, agents: [], keys: [] }, format, '--format')
        const { catalog, deployment } = loadDeployment(rootFrom(args, ctx), env, ctx)
        if (!deployment) return ExitCode.findings
        ctx.stdout.write(formatRegistry(buildRegistry(env, deployment, catalog), format, '--format'))
        return ExitCode.ok
    },
}
