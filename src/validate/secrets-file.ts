/**
 * Key-less checks of one `env.secrets`: it parses as a SOPS dotenv file with
 * complete metadata, every value is encrypted, and its age recipients are
 * exactly those of the `.sops.yaml` rule that matches its path.
 */
import { isKeyfleetError } from '../errors.js'
import type { Finding } from '../findings.js'
import { parseSopsFile } from '../sops/native/parse.js'
import type { ParsedSopsFile } from '../sops/native/types.js'
import { finding } from './codes.js'
import { isEncryptedValue, isMetadataName, looksLikeEncValue, readDotenvLines, type DotenvLine } from './dotenv-lines.js'
import type { NamedLine } from './names.js'
import { matchRule, type SopsConfig } from './sops-config.js'

/** What {@link checkSecretsFile} learned, for the rules that follow. */
export interface SecretsFileCheck {
    readonly findings: Finding[]
    /** Data names with their lines, in file order (metadata excluded). */
    readonly names: NamedLine[]
    /** The key-less parse, when the file parsed. */
    readonly parsed: ParsedSopsFile | undefined
}

/** The environment of `environments/<env>/env.secrets`, else undefined. */
const envOf = (file: string): string | undefined => /^environments\/([a-z][a-z0-9-]*)\/env\.secrets$/.exec(file)?.[1]

/** The command that makes `file` follow its rule, as it runs from the repository root. */
const syncCommand = (file: string): string => {
    const env = envOf(file)
    return env ? `keyfleet recipients sync ${env}` : `sops updatekeys -y --input-type dotenv ${file}`
}

/**
 * Runs the key-less file rules (KF100-KF105) on `text`, the content of the
 * repo-relative `file`. `config` is the parsed `.sops.yaml`, or undefined
 * when it is missing (reported elsewhere, as KF122). Never throws; never
 * puts a value in a message.
 */
export const checkSecretsFile = (text: string, file: string, config: SopsConfig | undefined): SecretsFileCheck => {
    const findings: Finding[] = []
    const lines = readDotenvLines(text)
    const lineOfName = new Map<string, number>()
    for (const l of lines) if (!lineOfName.has(l.name)) lineOfName.set(l.name, l.line)

    // Check the metadata lines first: a missing one is KF102 (what is missing), not the parser's generic refusal.
    const incomplete = missingMetadata(lines, file)
    findings.push(...incomplete)
    let parsed: ParsedSopsFile | undefined
    try {
        parsed = parseSopsFile(text, { store: 'dotenv', file })
    } catch (error) {
        // Native messages name the file, line and path only (src/sops/native/errors.ts), so they are safe to show.
        const why = isKeyfleetError(error) ? error.message : 'it could not be parsed'
        if (incomplete.length === 0) {
            findings.push(finding('KF100', file, isKeyfleetError(error) ? error.line : undefined,
                `not a valid SOPS dotenv file (${why}): re-create it with \`keyfleet set\` or restore it from git`))
        }
    }

    const names: NamedLine[] = []
    if (parsed) {
        for (const leaf of parsed.leaves) {
            const name = leaf.path.join('.')
            names.push({ name, line: leaf.line ?? lineOfName.get(name) })
            if (!isEncryptedValue(leaf.raw) || !leaf.encrypted) {
                findings.push(plaintextFinding(name, file, leaf.line ?? lineOfName.get(name), leaf.raw,
                    '(the value is now in your working tree; if it was pushed, rotate it at the provider)'))
            }
        }
        if (config) findings.push(...recipientFindings(parsed, file, config, lines))
    } else {
        // The parser refused the file: still locate plaintext values and names line by line.
        for (const l of lines) {
            if (isMetadataName(l.name)) continue
            names.push({ name: l.name, line: l.line })
            if (!isEncryptedValue(l.value)) findings.push(plaintextFinding(l.name, file, l.line, l.value, '(if it was pushed, rotate it at the provider)'))
        }
    }
    return { findings, names, parsed }
}

/**
 * KF101 for a value that is not a well-formed SOPS ciphertext. A value merely wrapped in `ENC[...]`
 * (hand-written, or a key pasted into a ciphertext's data field) is said to be malformed; either way
 * the message names the variable and line, never the value.
 */
const plaintextFinding = (name: string, file: string, line: number | undefined, value: string, rotate: string): Finding =>
    finding('KF101', file, line, looksLikeEncValue(value)
        ? `${name} holds a malformed ENC[...] value, not a SOPS ciphertext (sops writes ENC[AES256_GCM,data:<base64>,iv:<32 bytes>,tag:<16 bytes>,type:<str|int|…>]): treat it as plaintext and encrypt it with \`keyfleet set\` ${rotate}`
        : `${name} holds a plaintext value: encrypt it with \`keyfleet set\` ${rotate}`)

/** KF102 for each metadata line a complete sops dotenv file has and this one lacks (none when it has no metadata at all: KF100). */
const missingMetadata = (lines: readonly DotenvLine[], file: string): Finding[] => {
    const meta = new Map(lines.filter((l) => isMetadataName(l.name)).map((l) => [l.name, l.value]))
    if (meta.size === 0) return []
    const out: Finding[] = []
    const missing = (what: string): void => {
        out.push(finding('KF102', file, undefined, `the SOPS metadata lacks ${what}: the file was hand-edited or truncated; restore it from git or re-create it with \`keyfleet set\``))
    }
    if (!meta.get('sops_version')) missing('`sops_version`')
    if (!meta.get('sops_lastmodified')) missing('`sops_lastmodified`')
    if (!isEncryptedValue(meta.get('sops_mac') ?? '')) missing('an encrypted `sops_mac`')
    const indexes = new Set([...meta.keys()].map((k) => /^sops_age__list_(\d+)__map_/.exec(k)?.[1]).filter((i) => i !== undefined))
    if (indexes.size === 0) missing('age recipients (`sops_age__list_N__map_recipient` / `_enc`)')
    for (const i of indexes) {
        if (!meta.get(`sops_age__list_${i}__map_recipient`)) missing(`the recipient of age entry ${i} (\`sops_age__list_${i}__map_recipient\`)`)
        if (!meta.get(`sops_age__list_${i}__map_enc`)) missing(`the wrapped data key of age entry ${i} (\`sops_age__list_${i}__map_enc\`)`)
    }
    return out
}

const recipientFindings = (parsed: ParsedSopsFile, file: string, config: SopsConfig, lines: readonly DotenvLine[]): Finding[] => {
    const rule = matchRule(config, file)
    if (!rule) {
        return [finding('KF105', file, undefined, `no creation rule in ${config.file} matches ${file}: add a rule whose path_regex matches it${envOf(file) ? ` (\`keyfleet env add ${envOf(file)}\` writes one)` : ''}, then run \`${syncCommand(file)}\``)]
    }
    const want = new Set(rule.age)
    const have = new Set(parsed.metadata.age.map((a) => a.recipient))
    const out: Finding[] = []
    const ruleRef = `${config.file}:${rule.line}`
    for (const r of want) {
        if (!have.has(r)) {
            out.push(finding('KF103', file, undefined, `recipient ${r} (in the rule at ${ruleRef}) cannot decrypt this file: it was added to .sops.yaml without re-encrypting; run \`${syncCommand(file)}\``))
        }
    }
    for (const r of have) {
        if (!want.has(r)) {
            const line = lines.find((l) => /^sops_age__list_\d+__map_recipient$/.test(l.name) && l.value === r)?.line
            out.push(finding('KF104', file, line, `recipient ${r} can still decrypt this file but is not in the rule at ${ruleRef}: it was removed without re-encrypting; run \`${syncCommand(file)}\` (and rotate the keys if that person should lose access)`))
        }
    }
    return out
}
