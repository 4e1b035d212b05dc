/**
 * Writing `.sops.yaml`: one creation rule per environment listing that
 * environment's CI recipient first, then its admins. (Reading and checking
 * the file is validation's job: src/validate/.)
 */

/** The recipients of one environment. */
export interface EnvironmentRecipients {
    readonly env: string
    readonly ci: string
    readonly admins: readonly string[]
}

/** Renders a `.sops.yaml` for the environments, deterministic, with comments naming each recipient's role. */
export const renderSopsConfig = (rules: readonly EnvironmentRecipients[]): string => {
    const lines = [
        '# One creation rule per environment: the environment\'s CI recipient, then its admins.',
        '# After changing a list by hand, run `keyfleet recipients sync <env>` so the file follows.',
        'creation_rules:',
    ]
    for (const rule of rules) {
        lines.push(`  - path_regex: ^environments/${rule.env}/[^/]+$`, '    age:', `      - ${rule.ci} # ci:${rule.env}`)
        for (const admin of rule.admins) lines.push(`      - ${admin} # admin`)
    }
    return `${lines.join('\n')}\n`
}
