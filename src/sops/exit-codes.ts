/**
 * sops exit codes (cmd/sops/codes/codes.go, v3.13.2) and what keyfleet makes
 * of them: a stable error code and a message that says what to do. One place,
 * so that every caller maps failures the same way. Messages never include
 * sops's stdout (which may hold plaintext) nor its stderr verbatim.
 */
import { KeyfleetError } from '../errors.js'

/** Selected sops exit codes. */
export const SopsExit = {
    generic: 1,
    couldNotReadInputFile: 2,
    couldNotWriteOutputFile: 3,
    errorReadingConfig: 5,
    macMismatch: 51,
    macNotFound: 52,
    configFileNotFound: 61,
    invalidTreePath: 91,
    noFileSpecified: 100,
    noEncryptionKeyFound: 111,
    couldNotRetrieveKey: 128,
    fileHasNotBeenModified: 200,
    noEditorFound: 201,
    fileAlreadyEncrypted: 203,
} as const

/** The failure of one sops invocation, as far as the wrapper knows it. */
export interface SopsFailure {
    readonly exitCode: number | undefined
    /** sops's stderr; used only to tell failures apart, never shown. */
    readonly stderr: string
    readonly timedOut: boolean
    readonly operation: string
    readonly file: string
}

/** Turns a failed sops run into a typed error with a redacted, actionable message. */
export const sopsError = (failure: SopsFailure): KeyfleetError => {
    const { exitCode, stderr, operation, file } = failure
    const fail = (code: string, message: string): KeyfleetError =>
        new KeyfleetError(code, `sops ${operation} ${file}: ${message}`, { file })
    if (failure.timedOut) return fail('SOPS_TIMEOUT', 'sops did not finish in time and was stopped; retry, and check that no editor or prompt is waiting')
    switch (exitCode) {
        case SopsExit.macMismatch:
            return fail('SOPS_MAC_MISMATCH', 'the file failed its MAC check: it was modified outside sops. Restore it from git (git checkout -- <file>) and redo the change with keyfleet')
        case SopsExit.macNotFound:
            return fail('SOPS_MAC_NOT_FOUND', 'the file has no MAC; it was not written by sops. Restore it from git')
        case SopsExit.couldNotRetrieveKey:
            return fail('SOPS_COULD_NOT_RETRIEVE_KEY', 'none of your age identities is a recipient of this file. Set SOPS_AGE_KEY_FILE (or --identity-file) to the identity of this environment')
        case SopsExit.configFileNotFound:
            return fail('SOPS_CONFIG_NOT_FOUND', 'no .sops.yaml found; run keyfleet from the repository root, or run `keyfleet init`')
        case SopsExit.errorReadingConfig:
            return fail('SOPS_CONFIG_INVALID', '.sops.yaml could not be read; check its YAML and its creation_rules')
        case SopsExit.fileAlreadyEncrypted:
            return fail('SOPS_ALREADY_ENCRYPTED', 'the file is already encrypted; use `keyfleet set` to change keys in it')
        case SopsExit.couldNotReadInputFile:
            return fail('SOPS_CANNOT_READ', 'the file could not be read or parsed as SOPS dotenv; check it exists and was written by sops')
        case SopsExit.couldNotWriteOutputFile:
            return fail('SOPS_CANNOT_WRITE', 'the file could not be written; check permissions and free space')
        case SopsExit.noEncryptionKeyFound:
            return fail('SOPS_NO_ENCRYPTION_KEY', 'no recipients to encrypt to; check the creation rule for this path in .sops.yaml')
        case SopsExit.noEditorFound:
            return fail('SOPS_NO_EDITOR', 'no editor found; set $EDITOR (for example EDITOR=vi)')
        case SopsExit.fileHasNotBeenModified:
            return fail('SOPS_NOT_MODIFIED', 'the file was not modified; nothing changed')
        case SopsExit.invalidTreePath:
            return fail('SOPS_INVALID_PATH', 'the key path is invalid')
        default:
            break
    }
    if (/no matching creation rules found/i.test(stderr)) {
        return fail('SOPS_NO_CREATION_RULE', 'no creation rule in .sops.yaml matches this path; add one for this environment (see docs/repository.md)')
    }
    if (/Key not found/i.test(stderr)) return fail('SOPS_KEY_NOT_FOUND', 'the name is not in this file')
    if (/sops metadata not found/i.test(stderr)) return fail('SOPS_NOT_ENCRYPTED', 'the file is not a SOPS file (no sops metadata); restore it from git')
    if (/could not unmarshal config|error loading config: (?!no matching)/i.test(stderr)) {
        return fail('SOPS_CONFIG_INVALID', '.sops.yaml could not be parsed; check its YAML (keyfleet validate shows the line)')
    }
    if (/config file not found/i.test(stderr)) {
        return fail('SOPS_CONFIG_NOT_FOUND', 'no .sops.yaml found; run keyfleet from the repository root, or run `keyfleet init`')
    }
    return fail('SOPS_FAILED', `sops exited with code ${exitCode ?? 'unknown'}; run the same sops command by hand to see its message`)
}
