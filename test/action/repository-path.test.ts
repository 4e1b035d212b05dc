/**
 * `repository-path`: pr.yml runs the base branch's action (checked out into
 * base/) on the pull request's files (head/), and deploy runs the approved
 * commit's action (approved/) on repo/. Issue 13, finding 1: the action must
 * then check the files of the path it is given, not the workspace, and keep
 * out-dir outside both.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { demoKey, makeSandbox, runAction, type Sandbox } from './harness.js'

const sandboxes: Sandbox[] = []
afterEach(() => { for (const sb of sandboxes.splice(0)) rmSync(sb.base, { recursive: true, force: true }) })
const sandbox = (): Sandbox => { const sb = makeSandbox(); sandboxes.push(sb); return sb }

describe('repository-path', () => {
    it("validates the checkout it names (the pull request's head/), with annotations relative to it", async () => {
        const sb = sandbox()
        const file = join(sb.workspace, 'environments/dev/deployment.yaml')
        writeFileSync(file, readFileSync(file, 'utf8').replace('keys: [openai]', 'keys: [no-such-service]'))
        // The workspace is the parent; the checkout to check is one directory below it.
        const run = await runAction(sb, { command: 'validate', 'repository-path': basename(sb.workspace) }, { GITHUB_WORKSPACE: dirname(sb.workspace) })
        expect(run.code, run.stdout).toBe(1)
        expect(run.stdout).toMatch(/^::error title=KF\d+,file=environments\/dev\/deployment\.yaml,line=\d+::/m)
    })

    it('refuses an out-dir inside the workspace even when it is outside the checkout', async () => {
        const sb = sandbox()
        const run = await runAction(sb, { command: 'render', environment: 'dev', 'age-key': demoKey('dev'), 'repository-path': basename(sb.workspace), 'out-dir': join(sb.base, 'render') }, { GITHUB_WORKSPACE: sb.base })
        expect(run.code).toBe(1)
        expect(run.stdout).toContain('out-dir must be outside the repository checkout')
    })
})
