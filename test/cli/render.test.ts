import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { PassThrough, Readable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { beforeAll, describe, expect, it } from 'vitest'
import { open, parseIdentityFile } from '../../src/age/index.js'
import { runCli } from '../../src/cli/run.js'
import { RENDER_MANIFEST } from '../../src/render/index.js'
import { findLeaks, filesUnder, makeCanary } from '../helpers/canary.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'

let repo: string
let canary: string
beforeAll(async () => {
    repo = makeDemoRepo()
    canary = makeCanary()
    // The canary becomes dev's OPENAI_API_KEY, which support-bot, research-agent and alice-laptop read.
    const set = await keyfleet(['set', 'dev', 'OPENAI_API_KEY', '--identity-file', demoKey(repo, 'admin')], { cwd: repo, stdin: `${canary}\n` })
    expect(set.code, set.stderr).toBe(0)
})

const outDir = (): string => join(mkdtempSync(join(tmpdir(), 'keyfleet-render-')), 'out')

describe('keyfleet render', () => {
    it('renders dev: the canary appears only inside the Secrets and bundle of the agents that read it', async () => {
        const out = outDir()
        const result = await keyfleet(['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'dev'), '--registry', 'markdown'], { cwd: repo })
        expect(result.code, result.stderr).toBe(0)
        expect(result.stdout).toMatch(/^support-bot +kubernetes +agents-dev\/secrets\/support-bot\.yaml +2 +[0-9a-f]{16}$/m)
        expect(result.stdout).toMatch(/^alice-laptop +bundle +bundles\/alice-laptop\.keys\.age +2 +[0-9a-f]{16}$/m)
        expect(result.stdout).toContain('```mermaid\ngraph LR')

        const files = filesUnder(out)
        const carriers = ['agents-dev/secrets/support-bot.yaml', 'agents-dev/secrets/research-agent.yaml'].map((p) => join(out, p))
        // base64 in Secret `data`: the raw value never appears, its base64 form only in the two Secrets.
        for (const path of carriers) expect(findLeaks(canary, { [path]: files[path] as Buffer }).length).toBeGreaterThan(0)
        const elsewhere = Object.fromEntries(Object.entries(files).filter(([p]) => !carriers.includes(p)))
        expect(Object.keys(elsewhere)).toContain(join(out, 'batch-dev/secrets/batch-summarizer.yaml'))
        expect(findLeaks(canary, { ...elsewhere, stdout: result.stdout, stderr: result.stderr })).toEqual([])
        const bot = parseYaml(readFileSync(carriers[0] as string, 'utf8')) as { data: Record<string, string> }
        expect(Buffer.from(bot.data.OPENAI_API_KEY ?? '', 'base64').toString()).toBe(canary)

        const laptop = parseIdentityFile(readFileSync(demoKey(repo, 'laptop-alice'), 'utf8'))
        const bundle = JSON.parse(Buffer.from(await open(readFileSync(join(out, 'bundles/alice-laptop.keys.age')), laptop)).toString()) as { keys: Record<string, string> }
        expect(Object.keys(bundle.keys)).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'])
        expect(bundle.keys.OPENAI_API_KEY).toBe(canary)
    })

    it('re-renders byte-identically (bundles aside) and removes files an agent no longer needs', async () => {
        const out = outDir()
        const args = ['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'dev')]
        expect((await keyfleet(args, { cwd: repo })).code).toBe(0)
        const first = filesUnder(out, (p) => p.includes('bundles'))
        expect((await keyfleet(args, { cwd: repo })).code).toBe(0)
        expect(filesUnder(out, (p) => p.includes('bundles'))).toEqual(first)

        const path = join(repo, 'environments/dev/deployment.yaml')
        const original = readFileSync(path, 'utf8')
        try {
            writeFileSync(path, original.replace(/  - name: batch-summarizer[\s\S]*?keys: \[claude\]\n/, ''))
            expect((await keyfleet(args, { cwd: repo })).code).toBe(0)
        } finally {
            writeFileSync(path, original)
        }
        expect(existsSync(join(out, 'batch-dev'))).toBe(false)
        expect(JSON.parse(readFileSync(join(out, RENDER_MANIFEST), 'utf8')).files).not.toContain('batch-dev/kustomization.yaml')
    })

    it('prints findings with lines and writes nothing when deployment.yaml is bad', async () => {
        const path = join(repo, 'environments/dev/deployment.yaml')
        const original = readFileSync(path, 'utf8')
        const out = outDir()
        try {
            writeFileSync(path, original.replace('cloud: gcp', 'cloud: hetzner').replace('keys: [claude]', 'keys: [mistral]'))
            const result = await keyfleet(['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'dev')], { cwd: repo })
            expect(result.code).toBe(1)
            expect(result.stderr).toMatch(/environments\/dev\/deployment\.yaml:11: error KF307 /)
            expect(result.stderr).toMatch(/environments\/dev\/deployment\.yaml:\d+: error KF311 .*"mistral"/)
            expect(existsSync(out)).toBe(false)
            const registry = await keyfleet(['registry', 'dev'], { cwd: repo })
            expect(registry.code).toBe(1)
        } finally {
            writeFileSync(path, original)
        }
    })

    it('fails with exit 3 and no output when the identity cannot open the environment', async () => {
        const out = outDir()
        const result = await keyfleet(['render', 'dev', '--out', out, '--identity-file', demoKey(repo, 'prod')], { cwd: repo })
        expect(result.code).toBe(3)
        expect(existsSync(out)).toBe(false)
        expect(findLeaks(canary, { stderr: result.stderr })).toEqual([])
    })

    it('takes the identity from SOPS_AGE_KEY_FILE, and rejects an unknown --registry format', async () => {
        const out = outDir()
        const ok = await keyfleet(['render', 'dev', '--out', out], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev') } })
        expect(ok.code, ok.stderr).toBe(0)
        const bad = await keyfleet(['render', 'dev', '--out', outDir(), '--registry', 'yaml'], { cwd: repo })
        expect(bad.code).toBe(2)
    })
})

describe('keyfleet render progress', () => {
    it('draws a progress line on stderr when it is a terminal and the fleet is large, never on stdout', async () => {
        const path = join(repo, 'environments/dev/deployment.yaml')
        const original = readFileSync(path, 'utf8')
        const agents = Array.from({ length: 60 }, (_, i) => `  - { name: bot-${i}, cloud: aws, target: kubernetes, namespace: agents-dev, keys: [openai] }`)
        const chunks = { out: '', err: '' }
        const stdout = new PassThrough()
        const stderr = Object.assign(new PassThrough(), { isTTY: true })
        stdout.on('data', (c: Buffer) => { chunks.out += c.toString() })
        stderr.on('data', (c: Buffer) => { chunks.err += c.toString() })
        try {
            writeFileSync(path, `environment: dev\nagents:\n${agents.join('\n')}\n`)
            const code = await runCli(['render', 'dev', '--out', outDir(), '--identity-file', demoKey(repo, 'dev')], {
                cwd: repo, env: { PATH: process.env.PATH }, stdin: Readable.from([]), stdout, stderr,
            })
            expect(code, chunks.err).toBe(0)
        } finally {
            writeFileSync(path, original)
        }
        expect(chunks.err).toContain('\rrendering dev: 60/60 agents\n')
        expect(chunks.out).not.toContain('rendering dev:')
        expect(findLeaks(canary, { stdout: chunks.out, stderr: chunks.err })).toEqual([])
    })
})

describe('keyfleet registry', () => {
    it('prints the registry of an environment without any key, in each format', async () => {
        const text = await keyfleet(['registry', 'prod'], { cwd: repo })
        expect(text.code).toBe(0)
        expect(text.stdout).toMatch(/^GEMINI_API_KEY +gemini +research-agent$/m)
        const json = await keyfleet(['registry', 'prod', '--format', 'json'], { cwd: repo })
        expect(JSON.parse(json.stdout)).toMatchObject({ keyfleet: 'registry/v1', environment: 'prod' })
        const md = await keyfleet(['registry', 'stage', '--format', 'markdown'], { cwd: repo })
        expect(md.stdout).toContain('graph LR')
        expect((await keyfleet(['registry', 'qa'], { cwd: repo })).code).toBe(2)
    })
})
