/**
 * KF107: a recipient whose private key is published (examples/demo-keys/).
 * Anything encrypted or sealed to it is public: an error everywhere except the
 * demo repository itself (src/repo/demo.ts), which exists to be opened with
 * those keys and reports nothing (its walkthrough validates clean).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Finding } from '../findings.js'
import { demoIdentityOf, demoRecipientsIn, isDemoRepository } from '../repo/demo.js'
import { finding } from './codes.js'

/**
 * Reports every published demo recipient in `.sops.yaml`, each `deployment.yaml`
 * and each `env.secrets` (its `sops_age` metadata) of `envs`. Key-less.
 */
export const checkDemoRecipients = (root: string, envs: readonly string[]): Finding[] => {
    if (isDemoRepository(root)) return []
    const files = ['.sops.yaml', ...envs.flatMap((env) => [`environments/${env}/deployment.yaml`, `environments/${env}/env.secrets`])]
    const out: Finding[] = []
    for (const file of files) {
        const path = join(root, file)
        if (!existsSync(path)) continue
        for (const { recipient, line } of demoRecipientsIn(readFileSync(path, 'utf8'))) {
            const advice = file.endsWith('deployment.yaml')
                ? 'remove that agent or give it its own recipient (`keyfleet keygen` on the host)'
                : 'add your own recipient (`keyfleet recipients add <env> age1…`), then drop this one (`keyfleet recipients remove <env> age1…`) and rotate the values it could read. (Only in an untouched copy of the demo: `keyfleet init --replace-demo --keys-dir DIR` starts over and discards every value.)'
            out.push(finding('KF107', file, line,
                `recipient ${recipient} is a published demo identity (${demoIdentityOf(recipient) ?? 'examples/demo-keys/'}): anyone can open what is encrypted to it; ${advice}`))
        }
    }
    return out
}
