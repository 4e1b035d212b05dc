/** Where the benchmarks run from and which sops they spawn: one answer for every suite. */
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, whether the suite runs compiled (dist/bench/) or from source (bench/). */
export const findRoot = (): string => {
    const here = dirname(fileURLToPath(import.meta.url))
    return here.includes(`${join('dist', 'bench')}`) ? join(here, '..', '..') : join(here, '..')
}

/** The pinned sops binary, as scripts/ensure-tools.sh resolves (and if need be installs) it. */
export const sopsBinary = (root: string): string => {
    const out = execFileSync('bash', [join(root, 'scripts', 'ensure-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    const line = out.split('\n').find((l) => l.startsWith('sops='))
    if (!line) throw new Error('scripts/ensure-tools.sh printed no sops path')
    return line.slice('sops='.length)
}
