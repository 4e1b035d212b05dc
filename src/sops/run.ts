/**
 * The one place that spawns sops. Identities reach it only through the
 * environment, values only through stdin; its stdout is returned to the
 * caller and never placed in an error.
 */
import { execa } from 'execa'
import { KeyfleetError } from '../errors.js'
import { checkSops } from './binary.js'
import { sopsError } from './exit-codes.js'
import { withPrivateTmp } from './private-tmp.js'

/** Where sops finds the age identities: the sops conventions, passed through the child's environment only. */
export interface SopsIdentity {
    /** Contents of one or more identities (`AGE-SECRET-KEY-1…`), becomes SOPS_AGE_KEY. */
    readonly ageKey?: string
    /** Path of a keys.txt-format file, becomes SOPS_AGE_KEY_FILE. */
    readonly ageKeyFile?: string
    /** A command printing identities, becomes SOPS_AGE_KEY_CMD. */
    readonly ageKeyCmd?: string
}

/** Options shared by every sops call. */
export interface SopsOptions {
    /** sops command or path; default `sops`. */
    readonly sopsPath?: string
    /** Working directory: the repository root, so that .sops.yaml and its path_regex apply. */
    readonly cwd: string
    readonly identity?: SopsIdentity
    /** Kill sops after this many ms (default 60 s). */
    readonly timeoutMs?: number
    /** PATH for the child (needed only to find $EDITOR); HOME is always passed for sops's own config lookup. */
    readonly pathEnv?: string
    readonly home?: string
    /** XDG_CONFIG_HOME for the child: sops finds its user keys.txt there. */
    readonly configHome?: string
    /** Where the identities given to sops come from (names and paths, never content): named when sops cannot decrypt. */
    readonly identitySources?: readonly string[]
}

/** One invocation. */
export interface SopsCall {
    readonly operation: string
    readonly file: string
    readonly args: readonly string[]
    /** Bytes for stdin (a value for `set`, plaintext for `encrypt`); never argv. */
    readonly input?: string
    /** Inherit the terminal (for `edit`). */
    readonly interactive?: boolean
    readonly editor?: string
}

/**
 * Runs sops and returns its stdout.
 * @throws KeyfleetError mapped from the exit code (see exit-codes.ts), `SOPS_MISSING`, `SOPS_TIMEOUT`, `SOPS_KILLED` (death by a signal, named).
 */
export const runSops = async (call: SopsCall, options: SopsOptions): Promise<string> =>
    // An editor session holds plaintext on disk: keep it in a private directory keyfleet removes (finding 13.11).
    call.interactive ? withPrivateTmp((dir) => runSopsIn(call, options, dir)) : runSopsIn(call, options, undefined)

const runSopsIn = async (call: SopsCall, options: SopsOptions, tmp: string | undefined): Promise<string> => {
    const binary = await checkSops(options.sopsPath ?? 'sops')
    // A minimal environment: nothing from the parent leaks into sops, and sops
    // sees only the identity we meant (no stray SOPS_AGE_KEY from the shell).
    const env: Record<string, string> = { SOPS_DISABLE_VERSION_CHECK: '1' }
    if (options.home) env.HOME = options.home
    if (options.pathEnv) env.PATH = options.pathEnv
    if (options.identity?.ageKey) env.SOPS_AGE_KEY = options.identity.ageKey
    if (options.identity?.ageKeyFile) env.SOPS_AGE_KEY_FILE = options.identity.ageKeyFile
    if (options.identity?.ageKeyCmd) env.SOPS_AGE_KEY_CMD = options.identity.ageKeyCmd
    if (options.configHome) env.XDG_CONFIG_HOME = options.configHome
    if (call.editor) env.EDITOR = call.editor
    if (tmp) env.TMPDIR = tmp
    const result = await execa(binary.path, [...call.args], {
        cwd: options.cwd,
        env,
        extendEnv: false,
        reject: false,
        // An editor session takes as long as the person editing needs.
        ...(call.interactive ? {} : { timeout: options.timeoutMs ?? 60_000 }),
        verbose: 'none',
        stripFinalNewline: false,
        ...(call.interactive
            ? { stdio: 'inherit' as const }
            : { input: call.input ?? '', stdout: 'pipe' as const, stderr: 'pipe' as const }),
    })
    if (result.failed) {
        if (result.signal && !result.timedOut) {
            throw new KeyfleetError('SOPS_KILLED', `sops was killed by ${result.signal} during ${call.operation}; nothing was saved and its plaintext temp directory was removed`, { file: call.file })
        }
        if (result.exitCode === undefined && !result.timedOut) {
            throw new KeyfleetError('SOPS_MISSING', `sops could not be started for ${call.operation}; run scripts/ensure-tools.sh`, { file: call.file })
        }
        const error = sopsError({ exitCode: result.exitCode, stderr: String(result.stderr ?? ''), timedOut: result.timedOut, operation: call.operation, file: call.file })
        if (error.code === 'SOPS_COULD_NOT_RETRIEVE_KEY') {
            const sources = options.identitySources?.length ? options.identitySources.join(', ') : 'none: no SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD or user keys.txt'
            throw new KeyfleetError(error.code, `${error.message} (identities sops was given: ${sources})`, { file: call.file })
        }
        throw error
    }
    return String(result.stdout ?? '')
}
