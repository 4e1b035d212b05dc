/**
 * The published demo identities (examples/demo-keys/) and how to tell the demo
 * repository from a real one. Their private keys are public: nothing real may
 * ever be encrypted or sealed to these recipients.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Recipient to the demo identity file that opens it. Kept in code (not read from
 * examples/demo-keys/) so a repository that copied the demo `.sops.yaml` but not
 * the keys is still caught; test/validate/demo-recipients.test.ts checks the two agree.
 */
export const DEMO_RECIPIENTS: ReadonlyMap<string, string> = new Map([
    ['age1kjtzx7zxsjl0nm50nvwmch68tc8r7kwn80gawllcf24lcz87f4hsc0w2ks', 'examples/demo-keys/admin.agekey'],
    ['age10czy7qhjq4g9ljnjh2cp65cva4v84909td9k2xymjtl4wxj58s9sg28plp', 'examples/demo-keys/dev.agekey'],
    ['age1puulpurcye44kptfggguuepcnugzzhqxfs7767cmvw6vlu6fvsfqkvvuyk', 'examples/demo-keys/stage.agekey'],
    ['age1y2s7ervnlk7k0k6v7u4glatmrsggr8q2muefjytdwr449asdqe2s5n9gt3', 'examples/demo-keys/prod.agekey'],
    ['age1hmkkhc2n3ykdxtgxun39uncjhayfd0kucnc7v9pals86q4xanflsyrguyu', 'examples/demo-keys/laptop-alice.agekey'],
])

/** The line the demo `.sops.yaml` carries until `keyfleet init` replaces it. */
export const DEMO_MARKER = '# DEMO: these recipients belong to the published identities in examples/demo-keys/.'

/** The published identity file behind `recipient`, or undefined for any other recipient. */
export const demoIdentityOf = (recipient: string): string | undefined => DEMO_RECIPIENTS.get(recipient.trim())

/**
 * True for the demo repository itself: `.sops.yaml` still carries {@link DEMO_MARKER}
 * and `examples/demo-keys/` is present. `keyfleet init` rewrites `.sops.yaml` without
 * the marker, so after `init` (with or without --replace-demo) the repository is real
 * and demo recipients are errors there (docs/repository.md).
 */
export const isDemoRepository = (root: string): boolean => {
    const config = join(root, '.sops.yaml')
    if (!existsSync(config) || !existsSync(join(root, 'examples', 'demo-keys'))) return false
    return readFileSync(config, 'utf8').split(/\r?\n/).includes(DEMO_MARKER)
}

/** Every demo recipient mentioned in `text`, with its 1-based line. */
export const demoRecipientsIn = (text: string): { recipient: string; line: number }[] => {
    const out: { recipient: string; line: number }[] = []
    text.split('\n').forEach((content, i) => {
        for (const recipient of DEMO_RECIPIENTS.keys()) if (content.includes(recipient)) out.push({ recipient, line: i + 1 })
    })
    return out
}
