/**
 * Locates the pinned tools exactly as CI does: through scripts/ensure-tools.sh.
 * Tests that need sops, actionlint or age call `toolPath()`; if the script
 * cannot provide the tool the test fails (it is never skipped).
 */
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute path of the repository root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

let cached: Record<string, string> | undefined
const tools = (): Record<string, string> => {
    cached ??= Object.fromEntries(
        execFileSync('bash', [join(repoRoot, 'scripts', 'ensure-tools.sh'), '--with-actionlint', '--with-age'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
            .trim().split('\n').map((line) => line.split('=', 2) as [string, string]),
    )
    return cached
}

/** Path of a pinned tool (sops, actionlint, age) as scripts/ensure-tools.sh provides it; throws when it cannot. */
export const toolPath = (name: 'sops' | 'actionlint' | 'age'): string => {
    const path = tools()[name]
    if (!path) throw new Error(`scripts/ensure-tools.sh printed no ${name} path`)
    return path
}

/** Path of the pinned sops binary. */
export const sopsPath = (): string => toolPath('sops')

/** Absolute path of a vector file under test/fixtures/vectors (copied from ../shared/vectors with their READMEs). */
export const vector = (...parts: string[]): string => join(repoRoot, 'test', 'fixtures', 'vectors', ...parts)
