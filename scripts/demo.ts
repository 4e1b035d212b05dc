/**
 * `npm run demo`: the three flows on the built-in demo environments, with no
 * sops and no network needed.
 *   1. decrypt each environment in process with its demo CI identity and list
 *      every key by name with a safe hint (provider, length, last four);
 *   2. render each environment's manifests and bundles into a temp dir and show
 *      the agent ↔ key registry;
 *   3. run a tiny agent on a kubelet-style Secret volume and rotate a key under it.
 * It prints hints, never values. The demo identities are published: demo only.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseIdentityFile } from '../src/age/index.js'
import { indexCatalog, keyHint, loadCatalog } from '../src/catalog/index.js'
import { renderTable } from '../src/cli/table.js'
import { environmentPaths } from '../src/repo/layout.js'
import { parseDeployment, registryText, renderEnvironment, writeRenderOutput } from '../src/render/index.js'
import { isDemoRepository } from '../src/repo/demo.js'
import { decryptSopsFile } from '../src/sops/native/index.js'
import { runRotationDemo } from './demo-rotation.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const log = (line = ''): void => { process.stdout.write(`${line}\n`) }
const catalog = loadCatalog(join(root, 'environments', 'keyfleet.yaml'))
const index = indexCatalog(catalog)
const outRoot = mkdtempSync(join(tmpdir(), 'keyfleet-demo-'))
// The rendered Secrets hold (demo) plaintext: remove them however the demo ends.
process.on('exit', () => rmSync(outRoot, { recursive: true, force: true }))

log('keyfleet demo: DEMO identities from examples/demo-keys/ (published; never protect a real key with them)\n')
log('1. Decrypt every environment in process (MAC verified), names and hints only')
const rows: string[][] = []
const decrypted = new Map<string, Map<string, string>>()
for (const env of catalog.environments) {
    const paths = environmentPaths(env)
    const identities = parseIdentityFile(readFileSync(join(root, 'examples', 'demo-keys', `${env}.agekey`), 'utf8'))
    const started = performance.now()
    const file = await decryptSopsFile(readFileSync(join(root, paths.secrets), 'utf8'), { store: 'dotenv', identities, file: paths.secrets })
    const ms = performance.now() - started
    const values = file.toEnvMap()
    decrypted.set(env, values)
    for (const [name, value] of values) {
        const hint = keyHint(name, value, index)
        rows.push([env, name, hint.provider, String(hint.length), hint.last4 ? `…${hint.last4}` : ''])
    }
    log(`   ${paths.secrets}: ${values.size} keys decrypted in ${ms.toFixed(1)} ms`)
}
log()
log(renderTable(['ENV', 'NAME', 'PROVIDER', 'LENGTH', 'ENDS'], rows))

log('2. Render the manifests each agent mounts (least privilege per agent)')
for (const env of catalog.environments) {
    const paths = environmentPaths(env)
    const parsed = parseDeployment(readFileSync(join(root, paths.deployment), 'utf8'), paths.deployment, catalog)
    if (!parsed.deployment) {
        for (const f of parsed.findings) log(`   ${f.file}:${f.line ?? 1}: ${f.message}`)
        process.exitCode = 1
        continue
    }
    const out = await renderEnvironment({ env, values: decrypted.get(env) ?? new Map(), deployment: parsed.deployment, catalog, allowDemoRecipients: isDemoRepository(root) })
    await writeRenderOutput(out, join(outRoot, env))
    const agents = Object.keys(out.generation).length
    log(`   ${env}: ${agents} agents -> ${out.files.length} files (Secrets 0600, patches, kustomize components, age bundles, registry)`)
    if (env === 'prod') {
        log()
        log(registryText(out.registry))
    }
}

log('3. A running agent picks up a rotated key without a restart')
await runRotationDemo(log)
log()
log(`Next: \`keyfleet set dev OPENAI_API_KEY\` (docs/authoring.md), \`keyfleet validate\`, \`keyfleet diff --base HEAD\`.`)
