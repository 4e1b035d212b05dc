/**
 * keyfleet's exit codes, in one place. Documented in README.md; never renumbered.
 */
export const ExitCode = {
    /** Success; for validate/diff/check: no error-level findings. */
    ok: 0,
    /** The command ran and found error-level findings (validate, check, diff --fail-on-change). */
    findings: 1,
    /** Bad usage, bad input, or an internal error. The message says what to do. */
    usage: 2,
    /** A decryption failure: no identity matches, or the file failed its MAC check. */
    decrypt: 3,
    /** A required tool (sops, git, kubectl) is missing or at the wrong version. */
    tool: 4,
    /** `keyfleet run`: the program is not executable (a shell's 126). */
    notExecutable: 126,
    /** `keyfleet run`: the program was not found (a shell's 127). */
    notFound: 127,
    /** Interrupted by the user (Ctrl-C). */
    interrupted: 130,
} as const

/** Maps a stable error code to an exit code. */
export const exitCodeFor = (code: string): number => {
    if (/^(SOPS_MAC_MISMATCH|SOPS_NO_MATCHING_IDENTITY|SOPS_COULD_NOT_RETRIEVE_KEY|NATIVE_MAC_MISMATCH|NATIVE_NO_MATCHING_IDENTITY|NATIVE_|AGE_NO_MATCHING_IDENTITY|PROPOSAL_NO_IDENTITY)/.test(code)) return ExitCode.decrypt
    if (/^(SOPS_MISSING|SOPS_WRONG_VERSION|GIT_MISSING|TOOL_)/.test(code)) return ExitCode.tool
    if (code === 'INTERRUPTED') return ExitCode.interrupted
    // `keyfleet run` stands in for the program, as a shell does: 127 not found, 126 found but not runnable.
    if (code === 'RUN_COMMAND_NOT_FOUND') return ExitCode.notFound
    if (code === 'RUN_COMMAND_NOT_EXECUTABLE') return ExitCode.notExecutable
    return ExitCode.usage
}
