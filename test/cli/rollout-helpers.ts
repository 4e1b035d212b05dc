/** Shared by the rollout tests: which kubectl to run. */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { repoRoot } from '../helpers/tools.js'

/** The pinned kubectl (.tools/bin, ensure-tools --with-kube) when built, else the first kubectl on PATH. */
export const kubectlPath = async (): Promise<string> => {
    const candidates = [join(process.env.KEYFLEET_TOOLS_DIR ?? join(repoRoot, '.tools', 'bin'), 'kubectl'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'kubectl'))]
    for (const path of candidates) {
        try { accessSync(path, constants.X_OK); return path } catch { /* next */ }
    }
    throw new Error('the rollout tests need kubectl: run bash scripts/ensure-tools.sh --with-kube')
}
