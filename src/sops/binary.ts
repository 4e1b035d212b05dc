/**
 * Finding and checking the sops binary. keyfleet needs sops ≥ 3.11 (for
 * `set --value-stdin`); the pinned, tested version is {@link PINNED_SOPS_VERSION}.
 */
import { execa } from 'execa'
import { KeyfleetError } from '../errors.js'

/** The sops version keyfleet is tested with (scripts/ensure-tools.sh installs it). */
export const PINNED_SOPS_VERSION = '3.13.2'
const MINIMUM = [3, 11, 0] as const

/** A located sops binary. */
export interface SopsBinary {
    readonly path: string
    readonly version: string
}

const checked = new Map<string, Promise<SopsBinary>>()

/**
 * Checks that `path` (a command name or absolute path) runs sops ≥ 3.11.
 * Cached per path for the life of the process.
 * @throws KeyfleetError `SOPS_MISSING` when it cannot be run, `SOPS_WRONG_VERSION` when too old.
 */
export const checkSops = (path: string): Promise<SopsBinary> => {
    let pending = checked.get(path)
    if (!pending) {
        pending = probe(path)
        checked.set(path, pending)
        pending.catch(() => checked.delete(path))
    }
    return pending
}

const probe = async (path: string): Promise<SopsBinary> => {
    const result = await execa(path, ['--version', '--disable-version-check'], { reject: false, timeout: 15_000, extendEnv: false, env: {}, stdin: 'ignore' })
    const version = /sops (\d+\.\d+\.\d+)/.exec(String(result.stdout))?.[1]
    if (result.failed && version === undefined) {
        throw new KeyfleetError('SOPS_MISSING', `cannot run sops ("${path}"). Install sops ${PINNED_SOPS_VERSION}: run scripts/ensure-tools.sh, or \`go install github.com/getsops/sops/v3/cmd/sops@v${PINNED_SOPS_VERSION}\`, or set KEYFLEET_SOPS to its path`)
    }
    if (version === undefined) throw new KeyfleetError('SOPS_WRONG_VERSION', `"${path}" did not report a sops version; set KEYFLEET_SOPS to a sops ${PINNED_SOPS_VERSION} binary`)
    const parts = version.split('.').map(Number)
    const tooOld = MINIMUM.some((min, i) => {
        const earlier = MINIMUM.slice(0, i).every((m, j) => parts[j] === m)
        return earlier && (parts[i] ?? 0) < min
    })
    if (tooOld) {
        throw new KeyfleetError('SOPS_WRONG_VERSION', `sops ${version} at "${path}" is too old: keyfleet needs >= 3.11 (tested with ${PINNED_SOPS_VERSION}). Run scripts/ensure-tools.sh`)
    }
    return { path, version }
}
