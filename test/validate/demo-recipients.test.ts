/**
 * KF107 and render's refusal: the published demo identities (examples/demo-keys/)
 * protect nothing outside the demo repository. The recipient table in
 * src/repo/demo.ts is checked against the key files with the age CLI.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEMO_MARKER, DEMO_RECIPIENTS, isDemoRepository } from '../../src/repo/demo.js'
import { validateRepository } from '../../src/validate/index.js'
import { demoKey, git, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { repoRoot, toolPath } from '../helpers/tools.js'

/** The demo repository as a user's copy: the demo marker gone (as after editing .sops.yaml), keys still there. */
const realCopy = (): string => {
    const repo = makeDemoRepo()
    const config = readFileSync(join(repo, '.sops.yaml'), 'utf8')
    writeFileSync(join(repo, '.sops.yaml'), config.replace(`${DEMO_MARKER}\n`, ''))
    return repo
}

describe('published demo recipients', () => {
    it.each([...DEMO_RECIPIENTS])('%s is the recipient of %s (age encrypts to it, the file opens it)', (recipient, file) => {
        const sealed = execFileSync(toolPath('age'), ['-e', '-a', '-r', recipient], { input: 'probe\n' })
        const opened = execFileSync(toolPath('age'), ['-d', '-i', join(repoRoot, file)], { input: sealed, encoding: 'utf8' })
        expect(opened).toBe('probe\n')
    })

    it('covers every identity in examples/demo-keys/', () => {
        const files = execFileSync('git', ['ls-files', 'examples/demo-keys'], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').filter((f) => f.endsWith('.agekey'))
        expect([...DEMO_RECIPIENTS.values()].sort()).toEqual(files.sort())
    })

    it('the demo repository is detected by its marker plus examples/demo-keys/', () => {
        expect(isDemoRepository(makeDemoRepo())).toBe(true)
        expect(isDemoRepository(realCopy())).toBe(false)
    })

    it('KF107 is silent in the demo repository and an error in any other', async () => {
        expect((await validateRepository({ root: makeDemoRepo() })).filter((f) => f.code === 'KF107')).toEqual([])
        const real = (await validateRepository({ root: realCopy() })).filter((f) => f.code === 'KF107')
        expect(real.map((f) => `${f.file}:${f.line ?? 0}`)).toEqual(expect.arrayContaining([
            '.sops.yaml:7', 'environments/dev/deployment.yaml:23', 'environments/prod/deployment.yaml:24',
        ]))
        expect(real.every((f) => f.severity === 'error')).toBe(true)
        // alice-laptop in every deployment.yaml, and every env.secrets wrapped for a demo identity.
        for (const env of ['dev', 'stage', 'prod']) {
            expect(real.some((f) => f.file === `environments/${env}/deployment.yaml`)).toBe(true)
            expect(real.some((f) => f.file === `environments/${env}/env.secrets`)).toBe(true)
        }
    })

    it('validate --all fails outside the demo repository (it used to say ok)', async () => {
        const repo = realCopy()
        git(repo, 'commit', '-qam', 'my repo')
        const result = await keyfleet(['validate', '--all'], { cwd: repo })
        expect(result.code).not.toBe(0)
        expect(result.stdout).toContain('error KF107')
    })

    it('render refuses to seal a bundle to a demo recipient outside the demo, typed, writing nothing', async () => {
        const repo = realCopy()
        const out = mkdtempSync(join(tmpdir(), 'keyfleet-render-'))
        const result = await keyfleet(['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
        expect(result.code).toBe(2)
        expect(result.stderr).toContain('[RENDER_DEMO_RECIPIENT]')
        expect(result.stderr).toContain('alice-laptop')
        expect(execFileSync('ls', ['-A', out], { encoding: 'utf8' })).toBe('')
        // The demo itself still renders its walkthrough.
        const demo = makeDemoRepo()
        const inDemo = await keyfleet(['render', 'dev', '--out', mkdtempSync(join(tmpdir(), 'keyfleet-render-')), '--identity-file', demoKey(demo, 'dev')], { cwd: demo })
        expect(inDemo.code).toBe(0)
    })
})
