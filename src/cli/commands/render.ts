/**
 * `keyfleet render <env> --out DIR`: decrypts the environment in process,
 * renders what each agent mounts (Secrets + Deployment patches, or age
 * bundles) and writes it. Prints names, targets, files and key counts; never a value.
 */
import { isDemoRepository } from '../../repo/demo.js'
import { readFileSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { renderEnvironment, writeRenderOutput, type RenderOutput } from '../../render/index.js'
import { environmentPaths } from '../../repo/layout.js'
import type { CliContext, Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { decryptNative, nativeIdentities, repoRootFor } from '../repo-context.js'
import { formatRegistry, loadDeployment } from './registry.js'

/** The summary table: one row per agent; names, targets, paths and counts only. */
const summary = (out: RenderOutput, shownDir: string, ctx: CliContext, keyCount: Map<string, number>): void => {
    const rows = out.registry.agents.map((a) => {
        const file = a.target === 'kubernetes' ? `${a.namespace}/secrets/${a.name}.yaml` : `bundles/${a.name}.keys.age`
        return [a.name, a.target, file, String(keyCount.get(a.name) ?? 0), out.generation[a.name] ?? '']
    })
    const head = ['AGENT', 'TARGET', 'FILE', 'KEYS', 'GENERATION']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
    ctx.stdout.write(`rendered ${out.environment} into ${shownDir}: ${out.files.length} files\n${[line(head), ...rows.map(line)].join('\n')}\n`)
}

export const command: Command = {
    name: 'render',
    summary: 'Render what each agent mounts: Kubernetes Secrets + Deployment patches, or age bundles',
    usage: 'render <env> --out DIR [--identity-file FILE] [--registry text|json|markdown]',
    help: `Decrypts environments/<env>/env.secrets in process (identity from --identity-file,
SOPS_AGE_KEY or SOPS_AGE_KEY_FILE), then writes into DIR, for each agent of
environments/<env>/deployment.yaml, exactly the keys it may read:
  kubernetes: <namespace>/secrets/<agent>.yaml (mode 0600) and <namespace>/patches/<agent>.yaml,
              listed in <namespace>/kustomization.yaml and kustomization.yaml (kustomize Components)
  bundle:     bundles/<agent>.keys.age, encrypted to the host's recipient (safe to publish)
plus registry.json and registry.md. Files of an earlier render of <env> that are no
longer produced are removed. Outputs and layout: docs/render.md.
Exit: 0 ok, 1 deployment.yaml has errors (nothing written), 2 usage, 3 cannot decrypt.

Examples:
  keyfleet render dev --out out/dev --identity-file examples/demo-keys/dev.agekey
  SOPS_AGE_KEY="$KEY" keyfleet render prod --out "$RUNNER_TEMP/prod" --registry markdown`,
    options: {
        out: { type: 'string', arg: 'DIR', description: 'output directory (created 0700); keep it out of git' },
        'identity-file': { type: 'string', multiple: true, arg: 'FILE', description: 'age identity file (keys.txt format)' },
        registry: { type: 'string', arg: 'FORMAT', description: 'also print the agent/key registry: text, json or markdown' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: the nearest directory at or above the current one holding .sops.yaml or environments/keyfleet.yaml)' },
    },
    positionals: [1, 1],
    run: async (args, ctx) => {
        const env = args.positionals[0] as string
        const outArg = args.values.out
        if (typeof outArg !== 'string' || outArg === '') throw new KeyfleetError('USAGE', 'render needs --out DIR, a directory outside git for the rendered files')
        const registryFormat = typeof args.values.registry === 'string' ? args.values.registry : undefined
        if (registryFormat !== undefined) formatRegistry({ keyfleet: 'registry/v1', environment: env, agents: [], keys: [] }, registryFormat, '--registry')
        const root = repoRootFor(ctx, args.values.root)
        const { catalog, deployment } = loadDeployment(root, env, ctx)
        if (!deployment) return ExitCode.findings
        const identities = nativeIdentities(ctx, ([] as unknown[]).concat(args.values['identity-file'] ?? []).map(String))
        const secretsFile = environmentPaths(env).secrets
        if (identities.length === 0) {
            throw new KeyfleetError('NATIVE_NO_MATCHING_IDENTITY', `no age identity to decrypt ${secretsFile}: pass --identity-file FILE or set SOPS_AGE_KEY / SOPS_AGE_KEY_FILE`)
        }
        let text: string
        try {
            text = readFileSync(join(root, secretsFile), 'utf8')
        } catch (cause) {
            throw new KeyfleetError('SECRETS_NOT_FOUND', `cannot read ${secretsFile}: create the environment with \`keyfleet set ${env} NAME\` or \`keyfleet import\``, { cause: (cause as NodeJS.ErrnoException).code, file: secretsFile })
        }
        const values = (await decryptNative(text, { store: 'dotenv', identities, file: secretsFile })).toEnvMap()
        const tty = ctx.stderr.isTTY === true && deployment.agents.length >= 50
        let last = 0
        const out = await renderEnvironment({
            env, values, deployment, catalog, allowDemoRecipients: isDemoRepository(root),
            onProgress: tty ? (done, total) => {
                // Redraw at most every 2%: a progress line per agent would cost more than the render.
                if (done === total || done - last >= Math.max(1, Math.floor(total / 50))) {
                    last = done
                    ctx.stderr.write(`\rrendering ${env}: ${done}/${total} agents${done === total ? '\n' : ''}`)
                }
            } : undefined,
        })
        const dir = resolve(ctx.cwd, outArg)
        const inside = relative(root, dir)
        if (!inside.startsWith('..') && !isAbsolute(inside)) {
            ctx.stderr.write(`warning: ${outArg} is inside the repository and will hold plaintext Secret manifests; make sure it is git-ignored (or render outside the repository)\n`)
        }
        await writeRenderOutput(out, dir)
        const counts = new Map(deployment.agents.map((a) => [a.name, a.keys.length]))
        const shown = relative(ctx.cwd, dir)
        summary(out, shown === '' ? '.' : shown.startsWith('..') ? dir : shown, ctx, counts)
        if (registryFormat !== undefined) ctx.stdout.write(`\n${formatRegistry(out.registry, registryFormat, '--registry')}`)
        return ExitCode.ok
    },
}
