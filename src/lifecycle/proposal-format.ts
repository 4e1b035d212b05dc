/**
 * The write-only proposal: one new value for one key of one environment,
 * sealed with age to the environment's CI recipient, so that someone who may
 * change a key but not read the environment can still change it. The file
 * travels in the pull request as `environments/<env>/proposals/<NAME>.age`.
 */
import { KeyfleetError } from '../errors.js'
import { environmentPaths } from '../repo/layout.js'

/** The `keyfleet` field of a proposal's plaintext. */
export const PROPOSAL_FORMAT = 'proposal/v1'

/** The plaintext of a proposal (JSON inside the age file). */
export interface ProposalPayload {
    readonly keyfleet: typeof PROPOSAL_FORMAT
    readonly env: string
    readonly name: string
    /** The secret. Never printed, logged or written in plaintext. */
    readonly value: string
    /** ISO 8601 time the proposal was made. */
    readonly created: string
}

/** File names in proposals/: `<NAME>.age` (the key-less check in validate owns the shape). */
export { PROPOSAL_FILE_NAME as PROPOSAL_FILE } from '../validate/proposals.js'

/** Repository-relative path of the proposal for `name` in `env`. @throws KeyfleetError `ENV_INVALID_NAME`. */
export const proposalPath = (env: string, name: string): string => `${environmentPaths(env).proposals}/${name}.age`

/** Serializes a payload (the caller seals it; the result holds the secret). */
export const encodePayload = (payload: Omit<ProposalPayload, 'keyfleet'>): string =>
    JSON.stringify({ keyfleet: PROPOSAL_FORMAT, env: payload.env, name: payload.name, value: payload.value, created: payload.created })

/**
 * Parses and checks a decrypted payload against where its file lies: a
 * proposal copied to another environment or renamed to another key is refused.
 * @param file - repository-relative path, for messages.
 * @throws KeyfleetError `PROPOSAL_MALFORMED`, `PROPOSAL_MISPLACED` (messages never quote the value).
 */
export const decodePayload = (bytes: Uint8Array, file: string, env: string, name: string): ProposalPayload => {
    let raw: unknown
    try {
        raw = JSON.parse(Buffer.from(bytes).toString('utf8'))
    } catch {
        throw new KeyfleetError('PROPOSAL_MALFORMED', `${file} opens but does not hold a keyfleet proposal (not JSON); make it again with \`keyfleet propose\``, { file })
    }
    const p = raw as Partial<Record<keyof ProposalPayload, unknown>> | null
    if (typeof p !== 'object' || p === null || p.keyfleet !== PROPOSAL_FORMAT || typeof p.env !== 'string' || typeof p.name !== 'string'
        || typeof p.value !== 'string' || typeof p.created !== 'string') {
        throw new KeyfleetError('PROPOSAL_MALFORMED', `${file} opens but is not a ${PROPOSAL_FORMAT} proposal (fields keyfleet, env, name, value, created); make it again with \`keyfleet propose\``, { file })
    }
    if (p.env !== env || p.name !== name) {
        throw new KeyfleetError('PROPOSAL_MISPLACED', `${file} was made for ${p.name.slice(0, 60)} in ${p.env.slice(0, 40)}, not ${name} in ${env}; proposals cannot be moved or renamed — make it again with \`keyfleet propose ${env} ${name}\``, { file })
    }
    return { keyfleet: PROPOSAL_FORMAT, env: p.env, name: p.name, value: p.value, created: p.created }
}
