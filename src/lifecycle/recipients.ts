/**
 * Changing who can read an environment: add or remove an age recipient in
 * `.sops.yaml` and make env.secrets follow (`sops updatekeys`). Removing also
 * replaces the data key (`sops rotate`): the removed party may have kept the
 * old data key, and with it every value of the old file.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { KeyfleetError } from '../errors.js'
import { changeViaTempCopy, writeFileAtomic } from '../repo/atomic.js'
import { SOPS_CONFIG_PATH, environmentPaths } from '../repo/layout.js'
import { demoIdentityOf, isDemoRepository } from '../repo/demo.js'
import { sopsRotate, sopsUpdateKeys, type SopsOptions } from '../sops/index.js'
import { parseSopsFile } from '../sops/native/parse.js'
import { addRuleRecipient, readEnvironmentRule, removeRuleRecipient, type RuleRecipient } from './sops-rules.js'

/** Input of {@link addRecipient} and {@link removeRecipient}. */
export interface RecipientChangeInput {
    readonly root: string
    readonly env: string
    readonly recipient: string
    /** sops options; the identity must open env.secrets (an admin or the CI identity). */
    readonly sops: SopsOptions
}

/** What a recipient change did. */
export interface RecipientChangeResult {
    /** Repository-relative env.secrets path. */
    readonly file: string
    /** False when the environment has no env.secrets yet (only .sops.yaml changed). */
    readonly fileUpdated: boolean
}

/** What {@link removeRecipient} did. */
export interface RecipientRemoval extends RecipientChangeResult {
    /** The removed entry with its comment (role). */
    readonly removed: RuleRecipient
    /** Names of the values the removed recipient could read: rotate them at the provider. */
    readonly exposedNames: readonly string[]
    /** True when the data key was replaced. */
    readonly rotated: boolean
}

const readConfig = (root: string): string => {
    const path = join(root, SOPS_CONFIG_PATH)
    if (!existsSync(path)) throw new KeyfleetError('SOPS_CONFIG_NOT_FOUND', `${SOPS_CONFIG_PATH} is missing; run \`keyfleet init\` or restore it from git`)
    return readFileSync(path, 'utf8')
}

/**
 * Writes the new `.sops.yaml`, runs `change` on env.secrets (when it exists)
 * and puts the old `.sops.yaml` back when `change` fails: the two files never
 * disagree after an error.
 */
const withConfig = async (root: string, env: string, oldText: string, newText: string, change: (tempRel: string) => Promise<void>): Promise<RecipientChangeResult> => {
    const file = environmentPaths(env).secrets
    const secrets = join(root, file)
    const configPath = join(root, SOPS_CONFIG_PATH)
    writeFileAtomic(configPath, newText, 0o644)
    if (!existsSync(secrets)) return { file, fileUpdated: false }
    try {
        await changeViaTempCopy(secrets, (temp) => change(relative(root, temp)))
    } catch (error) {
        writeFileAtomic(configPath, oldText, 0o644)
        throw error
    }
    return { file, fileUpdated: true }
}

/**
 * Adds `recipient` to `env`'s rule (appended, with `# comment`) and re-wraps
 * the data key for it (`sops updatekeys`; the data key stays).
 * @throws KeyfleetError `AGE_BAD_RECIPIENT`, `RECIPIENT_DEMO`, `RECIPIENT_EXISTS`, `SOPS_NO_CREATION_RULE`, sops errors
 *   (`SOPS_COULD_NOT_RETRIEVE_KEY` when the identity cannot open env.secrets) — nothing changed after any of them.
 */
export const addRecipient = async (input: RecipientChangeInput & { readonly comment?: string }): Promise<RecipientChangeResult> => {
    // A published demo identity opens whatever is encrypted to it: never grant it access outside the demo.
    const demo = demoIdentityOf(input.recipient)
    if (demo !== undefined && !isDemoRepository(input.root)) {
        throw new KeyfleetError('RECIPIENT_DEMO', `${input.recipient} is a published demo identity (${demo}): anyone could open ${input.env}; nothing was changed. Add your own recipient (\`keyfleet keygen\` makes one)`)
    }
    const oldText = readConfig(input.root)
    const newText = addRuleRecipient(oldText, input.env, input.recipient, input.comment)
    return withConfig(input.root, input.env, oldText, newText, (rel) => sopsUpdateKeys(rel, input.sops))
}

/**
 * Removes `recipient` from `env`'s rule, drops it from env.secrets and
 * replaces the data key, so that neither its identity nor a data key it may
 * have kept opens the new file.
 * @returns the names it could read: their values should be rotated at the provider.
 * @throws KeyfleetError `AGE_BAD_RECIPIENT`, `RECIPIENT_NOT_FOUND`, `RECIPIENT_LAST`, `NATIVE_*` (env.secrets
 *   unreadable), sops errors — nothing changed after any of them.
 */
export const removeRecipient = async (input: RecipientChangeInput): Promise<RecipientRemoval> => {
    const oldText = readConfig(input.root)
    const { text: newText, removed } = removeRuleRecipient(oldText, input.env, input.recipient)
    const secrets = join(input.root, environmentPaths(input.env).secrets)
    const exposedNames = existsSync(secrets) ? namesIn(readFileSync(secrets, 'utf8'), environmentPaths(input.env).secrets) : []
    const result = await withConfig(input.root, input.env, oldText, newText, async (rel) => {
        await sopsUpdateKeys(rel, input.sops)
        await sopsRotate(rel, input.sops)
    })
    return { ...result, removed, exposedNames, rotated: result.fileUpdated }
}

/** Key names of a dotenv SOPS file, from the key-less parse. @throws KeyfleetError `NATIVE_*`. */
export const namesIn = (text: string, file: string): string[] =>
    [...new Set(parseSopsFile(text, { store: 'dotenv', file }).leaves.map((leaf) => leaf.path.join('.')))]

/** One row of {@link listRecipients}. */
export interface RecipientRow {
    readonly env: string
    readonly recipient: string
    /** The comment in `.sops.yaml`, e.g. `ci:prod`, `admin`. */
    readonly role: string
    /** Whether env.secrets currently wraps the data key for it: `yes`, `no` (run updatekeys), or `-` (no file). */
    readonly inFile: 'yes' | 'no' | '-'
}

/**
 * The recipients of each environment, with whether env.secrets follows `.sops.yaml`,
 * plus recipients present in env.secrets but no longer in the rule (`role` = `(not in .sops.yaml)`).
 * Key-less. @throws KeyfleetError `SOPS_CONFIG_NOT_FOUND`, `SOPS_CONFIG_INVALID`.
 */
export const listRecipients = (root: string, envs: readonly string[]): RecipientRow[] => {
    const config = readConfig(root)
    const rows: RecipientRow[] = []
    for (const env of envs) {
        const file = environmentPaths(env).secrets
        const path = join(root, file)
        let inFile: Set<string> | undefined
        if (existsSync(path)) {
            try { inFile = new Set(parseSopsFile(readFileSync(path, 'utf8'), { store: 'dotenv', file }).metadata.age.map((a) => a.recipient)) } catch { inFile = new Set() }
        }
        let rule: readonly RuleRecipient[] = []
        try { rule = readEnvironmentRule(config, env).recipients } catch (error) {
            if (!(error instanceof KeyfleetError && error.code === 'SOPS_NO_CREATION_RULE')) throw error
        }
        for (const r of rule) rows.push({ env, recipient: r.recipient, role: r.comment, inFile: inFile === undefined ? '-' : inFile.has(r.recipient) ? 'yes' : 'no' })
        for (const extra of inFile ?? []) {
            if (!rule.some((r) => r.recipient === extra)) rows.push({ env, recipient: extra, role: '(not in .sops.yaml)', inFile: 'yes' })
        }
    }
    return rows
}

/** Environments among `envs` whose rule lists `recipient` (after a removal: where it can still read). */
export const environmentsWithRecipient = (root: string, envs: readonly string[], recipient: string): string[] => {
    const config = readConfig(root)
    return envs.filter((env) => {
        try { return readEnvironmentRule(config, env).recipients.some((r) => r.recipient === recipient) } catch { return false }
    })
}

/** What {@link syncRecipients} did. */
export interface RecipientSync extends RecipientChangeResult {
    /** Rule recipients that could not open the file before and now can. */
    readonly added: readonly string[]
    /** File recipients the rule no longer lists, now dropped. */
    readonly removed: readonly string[]
    /** True when the data key was replaced (a recipient was removed: it may have kept the old one). */
    readonly rotated: boolean
}

/**
 * Makes env.secrets follow its `.sops.yaml` rule (`sops updatekeys`); when that drops a
 * recipient it also replaces the data key (`sops rotate`), as {@link removeRecipient} does.
 * Values are unchanged; `.sops.yaml` is not touched. Nothing changes when the file already follows.
 * @throws KeyfleetError `SECRETS_NOT_FOUND`, `SOPS_NO_CREATION_RULE`, `NATIVE_*`, sops errors — file unchanged after any.
 */
export const syncRecipients = async (input: Omit<RecipientChangeInput, 'recipient'>): Promise<RecipientSync> => {
    const file = environmentPaths(input.env).secrets
    const path = join(input.root, file)
    const rule = readEnvironmentRule(readConfig(input.root), input.env).recipients.map((r) => r.recipient)
    if (!existsSync(path)) throw new KeyfleetError('SECRETS_NOT_FOUND', `${file} does not exist: create it with \`keyfleet env add ${input.env}\``, { file })
    const have = parseSopsFile(readFileSync(path, 'utf8'), { store: 'dotenv', file }).metadata.age.map((a) => a.recipient)
    const added = rule.filter((r) => !have.includes(r))
    const removed = have.filter((r) => !rule.includes(r))
    if (added.length === 0 && removed.length === 0) return { file, fileUpdated: false, added, removed, rotated: false }
    await changeViaTempCopy(path, async (temp) => {
        const rel = relative(input.root, temp)
        await sopsUpdateKeys(rel, input.sops)
        if (removed.length > 0) await sopsRotate(rel, input.sops)
    })
    return { file, fileUpdated: true, added, removed, rotated: removed.length > 0 }
}
