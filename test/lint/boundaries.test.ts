/**
 * docs/architecture.md's import boundaries, as eslint.config.js enforces them: sample files are
 * linted with the config's `boundaries` blocks (plain TypeScript parsing, no type information) so
 * each forbidden import is shown to be reported and each allowed one to pass.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ESLint } from 'eslint'
import tseslint from 'typescript-eslint'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/tools.js'

const lint = async (file: string, code: string): Promise<string[]> => {
    // eslint.config.js is plain JS without types; its `boundaries` export is an array of flat configs.
    const { boundaries } = await import(pathToFileURL(join(repoRoot, 'eslint.config.js')).href) as { boundaries: ESLint.Options['overrideConfig'][] }
    const eslint = new ESLint({
        cwd: repoRoot,
        overrideConfigFile: true,
        overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...boundaries.flat()] as ESLint.Options['overrideConfig'],
    })
    const [result] = await eslint.lintText(code, { filePath: `${repoRoot}/${file}` })
    return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`)
}

describe('import boundaries (eslint no-restricted-imports)', () => {
    it('the loader never imports execa, @actions/core, kubernetes-models or the modules that bring them', async () => {
        for (const spec of ['execa', '@actions/core', 'kubernetes-models', 'kubernetes-models/v1/Secret', '../sops/binary.js', '../sops/index.js', '../render/index.js', '../render/kubernetes.js', '../render/generation.js.bak', '../validate/index.js', '../lifecycle/agent.js', '../cli/run.js', '../action/main.js']) {
            const messages = await lint('src/loader/sample.ts', `import * as m from '${spec}'\nexport const x = m\n`)
            expect(messages, spec).toHaveLength(1)
            expect(messages[0], spec).toMatch(/^no-restricted-imports: /)
        }
    })

    it('the loader may import its own dependencies and the native reader', async () => {
        for (const spec of ['age-encryption', 'yaml', 're2js', 'node:fs', '../sops/native/index.js', '../catalog/resolve.js', '../errors.js', './store.js', '../render/generation.js']) {
            expect(await lint('src/loader/sample.ts', `import * as m from '${spec}'\nexport const x = m\n`), spec).toEqual([])
        }
    })

    it('the core never imports cli/, action/ or @actions/core; the glue may', async () => {
        for (const spec of ['../cli/run.js', '../../cli/commands/index.js', '../action/main.js', '@actions/core']) {
            expect(await lint('src/validate/sample.ts', `import * as m from '${spec}'\nexport const x = m\n`), spec).toHaveLength(1)
        }
        expect(await lint('src/validate/sample.ts', "import { execa } from 'execa'\nexport const x = execa\n")).toEqual([])
        expect(await lint('src/cli/sample.ts', "import * as m from '../action/main.js'\nexport const x = m\n")).toEqual([])
        expect(await lint('src/action/sample.ts', "import * as core from '@actions/core'\nexport const x = core\n")).toEqual([])
    })
})
