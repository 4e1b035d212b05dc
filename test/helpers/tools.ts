/**
 * Locates the pinned tools exactly as CI does: through scripts/ensure-tools.sh.
 * Tests that need sops call `sopsPath()`; if the script cannot provide sops
 * the test fails (it is never skipped).
 */
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute path of the repository root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

let cached: Record<string, string> | undefined
const tools = (): Record<string, string> => {
    cached ??= Object.fromEntries(
        execFileSync('bash', [join(repoRoot, 'scripts', 'ensure-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
            .trim().split('\n').map((line) => line.split('=', 2) as [string, string]),
    )
    return cached
}

/** Path of the pinned sops binary. */
export const sopsPath = (): string => {
    const path = tools().sops
    if (!path) throw new Error('scripts/ensure-tools.sh printed no sops path')
    return path
}

/** Absolute path of a vector file under test/fixtures/vectors (copied from ../shared/vectors with their READMEs). */
export const vector = (...parts: string[]): string => join(repoRoot, 'test', 'fixtures', 'vectors', ...parts)
