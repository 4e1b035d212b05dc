/**
 * `keyfleet scan`: looks for plaintext provider keys in staged content (the
 * pre-commit hook), in the change since a ref, in every tracked file, or in
 * the files named. Prints file, line and a hint; never the key.
 */
import { KeyfleetError } from '../../errors.js'
import { formatFinding, hasErrors } from '../../findings.js'
import { readRepoCatalog } from '../../validate/repository.js'
import { scanForPlaintextKeys, type ScanScope } from '../../validate/scan.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { rootOf } from './validate.js'

export const command: Command = {
    name: 'scan',
    summary: 'Find plaintext provider keys in staged, changed or tracked files',
    // One scope is required (no silent default: a bare \`keyfleet scan\` that looked at nothing would pass).
    usage: 'scan (--staged | --all | --base <ref> [--head <ref>] | FILE...) [--json] [--root DIR]',
    help: `Choose exactly one scope: --staged, --all, --base <ref> or the files to scan.
Looks for provider keys by their prefixes (sk-ant-, sk-proj-, AIza, fw_ and the
catalog's format rules), NAME=value assignments of catalog names, age identities,
high-entropy *_KEY/_TOKEN/_SECRET values and plaintext Kubernetes Secrets. SOPS ciphertext
(ENC[...] values, armor that decodes) and files that are age files are skipped. Put
"keyfleet:allow <rule>" on a line to accept a known fake there (the rule the finding names).
Exit 1 when a key is found.

Examples:
  keyfleet scan --staged            # what the pre-commit hook runs
  keyfleet scan --base origin/main  # the change of a pull request
  keyfleet scan --all               # every tracked file`,
    options: {
        staged: { type: 'boolean', description: 'scan the staged content (git index)' },
        all: { type: 'boolean', description: 'scan every tracked file (git ls-files)' },
        base: { type: 'string', arg: 'REF', description: 'scan the files changed since REF' },
        head: { type: 'string', arg: 'REF', description: 'with --base: read the files at REF instead of the working tree' },
        json: { type: 'boolean', description: 'print findings as JSON' },
        root: { type: 'string', arg: 'DIR', description: 'repository root (default: current directory)' },
    },
    positionals: [0, Number.MAX_SAFE_INTEGER],
    run: async (args, ctx) => {
        const root = rootOf(args, ctx)
        const modes = [args.values.staged === true, args.values.all === true, typeof args.values.base === 'string', args.positionals.length > 0].filter(Boolean).length
        if (modes !== 1) {
            throw new KeyfleetError('USAGE', `${modes === 0 ? 'say what to scan' : 'choose only one scope'}: exactly one of --staged, --all, --base <ref> or a list of files (usage: keyfleet scan (--staged | --all | --base <ref> [--head <ref>] | FILE...))`)
        }
        if (typeof args.values.head === 'string' && typeof args.values.base !== 'string') throw new KeyfleetError('USAGE', '--head needs --base')
        const scope: ScanScope = args.values.staged === true ? { kind: 'staged' }
            : args.values.all === true ? { kind: 'all' }
            : typeof args.values.base === 'string'
                ? { kind: 'changed', base: args.values.base, ...(typeof args.values.head === 'string' ? { head: args.values.head } : {}) }
                : { kind: 'files', files: args.positionals }
        const { catalog } = readRepoCatalog(root)
        const findings = await scanForPlaintextKeys({ root, scope, catalog })
        if (args.values.json === true) ctx.stdout.write(`${JSON.stringify({ findings }, null, 2)}\n`)
        else {
            for (const f of findings) ctx.stdout.write(`${formatFinding(f)}\n`)
            if (findings.length > 0) ctx.stderr.write(`keyfleet scan: ${findings.length} plaintext key(s) found; remove them before committing (see docs/validation.md#kf130)\n`)
        }
        return hasErrors(findings) ? ExitCode.findings : ExitCode.ok
    },
}
