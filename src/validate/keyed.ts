/**
 * Keyed checks, for jobs that hold an environment's identity (the deploy
 * job, an admin's laptop): the MAC verifies, each value passes its
 * provider's format rule, no value is a placeholder, and no value is shared
 * between production and a lower environment or between two names.
 *
 * Values are compared by HMAC-SHA256 under a random key drawn per run, so
 * what is compared cannot be matched against anything outside this process;
 * neither values nor digests are ever returned or printed.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { isPlaceholder, resolveStored, type CatalogIndex } from '../catalog/index.js'
import { isKeyfleetError } from '../errors.js'
import type { Finding } from '../findings.js'
import { decryptSopsFile } from '../sops/native/decrypt.js'
import { finding } from './codes.js'

/** One environment to check with its identity. */
export interface KeyedEnvInput {
    readonly env: string
    /** Repo-relative path of env.secrets. */
    readonly file: string
    readonly text: string
    /** age identities (`AGE-SECRET-KEY-1…`) able to decrypt the file. */
    readonly identities: readonly string[]
    /** Line of each name in the file, for findings. */
    readonly lineOf: (name: string) => number | undefined
}

/**
 * Decrypts `text` in process and returns NAME → value.
 * @throws KeyfleetError from sops/native (NATIVE_MAC_MISMATCH, NATIVE_NO_MATCHING_IDENTITY, …).
 */
export const decryptEnv = async (text: string, file: string, identities: readonly string[]): Promise<Map<string, string>> => {
    const decrypted = await decryptSopsFile(text, { store: 'dotenv', identities: [...identities], file })
    return decrypted.toEnvMap()
}

/**
 * Runs the keyed rules (KF140-KF144) over every environment given.
 * `production` is the environment whose keys must not appear in any other
 * (the last one in the catalog's promotion order). Never throws.
 */
export const checkKeyed = async (envs: readonly KeyedEnvInput[], index: CatalogIndex, production: string | undefined): Promise<Finding[]> => {
    const findings: Finding[] = []
    const hmacKey = randomBytes(32)
    const digest = (value: string): string => createHmac('sha256', hmacKey).update(value, 'utf8').digest('base64')
    // digest -> where it occurs, per environment
    const seen = new Map<string, { env: string; name: string; file: string; line: number | undefined }[]>()
    for (const input of envs) {
        let values: Map<string, string>
        try {
            values = await decryptEnv(input.text, input.file, input.identities)
        } catch (error) {
            const why = isKeyfleetError(error) ? `${error.code}: ${error.message}` : 'decryption failed'
            findings.push(finding('KF140', input.file, undefined,
                `cannot verify ${input.env} with the identity given (${why}): check that the identity belongs to a recipient of this file, or restore the file if it was tampered with`))
            continue
        }
        for (const [name, value] of values) {
            const line = input.lineOf(name)
            const spec = resolveStored(index, name)?.spec
            if (isPlaceholder(value)) {
                findings.push(finding('KF142', input.file, line, `${name} holds a placeholder, not a key: set the real key with \`keyfleet set ${input.env} ${name}\``))
                continue
            }
            if (spec?.format && !spec.format.test(value)) {
                findings.push(finding('KF141', input.file, line,
                    `${name} (${[...value].length} chars) does not match the ${spec.title} format ${spec.format.source}: check for a truncated paste, quotes or whitespace, or a key of another provider`))
            }
            const d = digest(value)
            const list = seen.get(d) ?? []
            list.push({ env: input.env, name, file: input.file, line })
            seen.set(d, list)
        }
    }
    for (const places of seen.values()) {
        if (places.length < 2) continue
        for (const env of new Set(places.map((p) => p.env))) {
            const here = places.filter((p) => p.env === env)
            for (const extra of here.slice(1)) {
                findings.push(finding('KF144', extra.file, extra.line, `${extra.name} has the same value as ${here[0]?.name} in ${env}: each name needs its own key (issue a separate key at the provider)`))
            }
        }
        const prod = places.filter((p) => p.env === production)
        if (prod.length === 0) continue
        for (const lower of places.filter((p) => p.env !== production)) {
            findings.push(finding('KF143', lower.file, lower.line, `${lower.name} in ${lower.env} has the same value as ${prod[0]?.name} in ${production}: a production key must not be used in a lower environment; issue a separate key for ${lower.env} and rotate the production key`))
        }
    }
    return findings
}
