/** `keyfleet keygen`: a new age identity, written 0600 or printed once. */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { generateIdentity } from '../../age/index.js'
import { KeyfleetError } from '../../errors.js'
import { writeFileAtomic } from '../../repo/atomic.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'

/** The keys.txt text keyfleet writes for an identity. */
export const identityFileText = (identity: string, recipient: string, comment: string): string =>
    `# ${comment}\n# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`

export const command: Command = {
    name: 'keygen',
    summary: 'Generate an age identity (for a CI environment, an admin or a host)',
    usage: 'keygen [--out FILE] [--pq] [--comment TEXT]',
    positionals: [0, 0],
    help: `Writes the identity to FILE with mode 0600 (refusing to overwrite), and prints its
public key (the recipient) on stdout. Without --out the identity is printed once on
stdout: store it (for example as the GitHub secret SOPS_AGE_KEY) and clear your terminal.

Examples:
  keyfleet keygen --out ~/.config/sops/age/keys.txt
  keyfleet keygen --pq --out host.agekey                   # post-quantum hybrid (age1pq1…)`,
    options: {
        out: { type: 'string', arg: 'FILE', description: 'Write the identity here (mode 0600)' },
        pq: { type: 'boolean', description: 'Generate an ML-KEM-768 + X25519 hybrid identity' },
        comment: { type: 'string', arg: 'TEXT', description: 'Comment line in the identity file' },
    },
    run: async ({ values }, ctx) => {
        const { identity, recipient } = await generateIdentity(values.pq === true ? 'hybrid' : 'x25519')
        const out = values.out as string | undefined
        if (out) {
            const path = resolve(ctx.cwd, out)
            if (existsSync(path)) throw new KeyfleetError('FILE_EXISTS', `${out} already exists; refusing to overwrite an identity (choose another --out)`)
            writeFileAtomic(path, identityFileText(identity, recipient, (values.comment as string | undefined) ?? 'keyfleet age identity'), 0o600)
            ctx.stderr.write(`wrote ${out} (mode 0600)\n`)
            ctx.stdout.write(`${recipient}\n`)
        } else {
            ctx.stderr.write(`public key: ${recipient}\n# the secret identity follows; it is shown only once\n`)
            ctx.stdout.write(`${identity}\n`)
        }
        return ExitCode.ok
    },
}
