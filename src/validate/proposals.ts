/**
 * Key-less checks of an environment's proposals, for the pull request (which
 * holds no private key): every file is a well-formed armored age file, is
 * named after a canonical catalog name, and carries no plaintext provider key.
 * src/lifecycle re-exports this for the keyed fold.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { formatHint, indexCatalog, keyHint, type Catalog, type CatalogIndex } from '../catalog/index.js'
import type { Finding } from '../findings.js'
import { encodeAgeArmor } from '../sops/native/age-armor.js'
import { inspectAgeFile } from './age-header.js'
import { lifecycleFinding } from './codes.js'
import { environmentPaths } from '../repo/layout.js'
import { matchLine, prefixDetectors, type Detector } from './patterns.js'

// A proposal is a few hundred bytes; anything far larger is not one.
const MAX_BYTES = 64 * 1024
/** File names in proposals/: `<NAME>.age`. */
export const PROPOSAL_FILE_NAME = /^([A-Za-z0-9_]+)\.age$/

/**
 * Proposal files (`*.age`) and other entries of `environments/<env>/proposals/`, sorted.
 * @throws KeyfleetError `ENV_INVALID_NAME` for a malformed environment name.
 */
export const listProposalDir = (root: string, env: string): { proposals: string[]; others: string[] } => {
    const dir = join(root, environmentPaths(env).proposals)
    if (!existsSync(dir)) return { proposals: [], others: [] }
    const proposals: string[] = []
    const others: string[] = []
    for (const entry of readdirSync(dir).sort()) {
        if (entry === '.gitkeep') continue
        const isFile = statSync(join(dir, entry), { throwIfNoEntry: false })?.isFile() === true
        if (isFile && entry.endsWith('.age')) proposals.push(entry)
        else others.push(entry)
    }
    return { proposals, others }
}

/** Plaintext keys on any line of `text`, reported as KF152 with a hint (never the key). */
const plaintextFindings = (text: string, file: string, where: string, detectors: readonly Detector[], index: CatalogIndex): Finding[] => {
    const findings: Finding[] = []
    text.split(/\r?\n/).forEach((line, i) => {
        for (const match of matchLine(line, detectors, index)) {
            const hint = formatHint({ ...keyHint(match.service, match.value), provider: match.service })
            findings.push(lifecycleFinding('KF152', file, where === 'text' ? i + 1 : undefined,
                `plaintext ${match.service} key (${hint}) ${where === 'text' ? 'in the file' : 'inside the armor (the file is not encrypted)'}: delete this file, rotate the key at the provider if it was pushed, and make the proposal with \`keyfleet propose\``))
        }
    })
    return findings
}

/**
 * Checks every proposal of `env` without any key.
 * @param root - repository root.
 * @param catalog - the repository's catalog (names must be canonical: no alias, no service name).
 * @returns findings KF150 (not a well-formed age file), KF151 (name not canonical/known),
 *   KF152 (plaintext provider key in the file), KF153 (something other than `<NAME>.age` in proposals/);
 *   empty when the environment has no proposals. Never throws for bad content.
 * @throws KeyfleetError `ENV_INVALID_NAME` for a malformed environment name.
 */
export const checkProposalsKeyless = (root: string, env: string, catalog: Catalog): Finding[] => {
    const index = indexCatalog(catalog)
    const detectors = prefixDetectors(index)
    const dirPath = environmentPaths(env).proposals
    const { proposals, others } = listProposalDir(root, env)
    const findings: Finding[] = others.map((entry) => lifecycleFinding('KF153', `${dirPath}/${entry}`, undefined,
        `only proposal files (<NAME>.age, made by \`keyfleet propose\`) belong in ${dirPath}/; remove this entry`))
    for (const entry of proposals) {
        const file = `${dirPath}/${entry}`
        const bytes = readFileSync(join(root, file))
        const name = PROPOSAL_FILE_NAME.exec(entry)?.[1]
        const resolved = name === undefined ? undefined : index.resolve(name)
        if (name === undefined || !resolved) {
            findings.push(lifecycleFinding('KF151', file, undefined, `"${entry.slice(0, 80)}" is not <NAME>.age for a name in the catalog (environments/keyfleet.yaml); declare the name or remove the file`))
        } else if (resolved.name !== name) {
            findings.push(lifecycleFinding('KF151', file, undefined, `${name} is ${resolved.spec.service === name ? 'the service' : 'an alias'} of ${resolved.name}; name the proposal ${resolved.name}.age (\`keyfleet propose ${env} ${resolved.name}\`)`))
        }
        if (bytes.length > MAX_BYTES) {
            findings.push(lifecycleFinding('KF150', file, undefined, `${bytes.length} bytes is far too large for a proposal; make it again with \`keyfleet propose\``))
            continue
        }
        const text = bytes.toString('utf8')
        const leaks = plaintextFindings(text, file, 'text', detectors, index)
        const inspected = inspectAgeFile(text)
        if (!inspected.ok) {
            findings.push(lifecycleFinding('KF150', file, undefined, `not a well-formed age file: ${inspected.reason}. Make it again with \`keyfleet propose ${env} ${name ?? 'NAME'}\``))
        } else if (encodeAgeArmor(inspected.binary) !== text) {
            // Armor whitespace does not change the ciphertext; accepting variants would let an old file pass as new bytes.
            findings.push(lifecycleFinding('KF150', file, undefined, `the armor is not exactly as age writes it (64-column base64 lines, one newline after the END line, no other whitespace or CR). Make it again with \`keyfleet propose ${env} ${name ?? 'NAME'}\``))
            leaks.push(...plaintextFindings(Buffer.from(inspected.binary).toString('latin1'), file, 'armor', detectors, index))
        } else {
            // Armor around a plaintext body would pass a glance at the file; look inside too.
            leaks.push(...plaintextFindings(Buffer.from(inspected.binary).toString('latin1'), file, 'armor', detectors, index))
        }
        findings.push(...leaks)
    }
    return findings
}
