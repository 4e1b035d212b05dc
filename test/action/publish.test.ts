/**
 * `command: publish` run as the runner runs it (the committed bundle, INPUT_*
 * variables) after a real render, against a real git server (`git daemon`
 * on loopback, push enabled) and nginx's WebDAV PUT. The published bundles
 * verify with `ssh-keygen -Y verify`, open with the host identity through the
 * loader's checks, hold only the current bundles in one orphan commit per
 * deploy, and issue times only go up. Nothing printed or written leaks the
 * planted value or the signing key.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveRemote } from '../../src/loader/remote-options.js'
import { acceptBundle } from '../../src/loader/remote-verify.js'
import { formatPrivateKey, formatPublicKey, generateSigningKey, parseEnvelope } from '../../src/sign/index.js'
import { findLeaks, makeCanary } from '../helpers/canary.js'
import { repoRoot } from '../helpers/tools.js'
import { freePort, startNginx, type Nginx } from '../loader/remote-servers.js'
import { commitAll, demoKey, leakHaystacks, makeSandbox, pathWithSops, runAction, sopsSet, type Sandbox } from './harness.js'

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

let daemon: ChildProcess
let remoteUrl: string
let bare: string
let sb: Sandbox
let nginx: Nginx
const key = generateSigningKey('keyfleet-signing:prod')
const devKey = generateSigningKey('keyfleet-signing:dev')
const value = makeCanary()

beforeAll(async () => {
    sb = makeSandbox()
    bare = join(sb.base, 'srv', 'fleet.git')
    mkdirSync(bare, { recursive: true })
    git(bare, 'init', '-q', '--bare')
    const port = await freePort()
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', `--base-path=${join(sb.base, 'srv')}`, '--listen=127.0.0.1', `--port=${port}`, join(sb.base, 'srv')], { stdio: 'ignore' })
    remoteUrl = `git://127.0.0.1:${port}/fleet.git`
    for (let i = 0; ; i++) {
        try { execFileSync('git', ['ls-remote', remoteUrl], { stdio: 'ignore' }); break } catch { if (i > 200) throw new Error('git daemon did not start'); await new Promise((r) => setTimeout(r, 25)) }
    }
    writeFileSync(join(sb.workspace, 'environments', 'prod', 'signing.pub'), formatPublicKey(key.publicKey))
    writeFileSync(join(sb.workspace, 'environments', 'dev', 'signing.pub'), formatPublicKey(devKey.publicKey))
    sopsSet(sb, 'prod', 'OPENAI_API_KEY', value)
    commitAll(sb, 'signing keys')
    git(sb.workspace, 'remote', 'add', 'origin', remoteUrl)
    git(sb.workspace, 'push', '-q', 'origin', 'main')
    nginx = await startNginx({ dav: true })
}, 60_000)
afterAll(async () => { daemon.kill(); await nginx.stop() })

const renderAndPublish = async (env: 'prod' | 'dev', signing: string, extra: Record<string, string> = {}): Promise<{ render: Awaited<ReturnType<typeof runAction>>; publish: Awaited<ReturnType<typeof runAction>> }> => {
    const outDir = join(sb.outDir, `${env}-${Math.random().toString(36).slice(2)}`)
    const render = await runAction(sb, { command: 'render', environment: env, 'age-key': demoKey(env), 'out-dir': outDir }, { PATH: pathWithSops() })
    expect(render.code, render.stdout).toBe(0)
    const publish = await runAction(sb, { command: 'publish', environment: env, 'out-dir': outDir, agents: render.outputs.agents as string, 'signing-key': signing, 'bundles-branch': 'keyfleet/bundles', ...extra })
    return { render, publish }
}

describe('publish to the bundles branch (git daemon) and by PUT (nginx WebDAV)', () => {
    it('pushes one orphan commit with only the current signed bundles, that ssh-keygen verifies and the host opens', async () => {
        const { publish } = await renderAndPublish('prod', formatPrivateKey(key), { 'publish-url': `${nginx.origin}/channel/{environment}/{agent}.bundle?X-Amz-Signature=SECRETSIG` })
        expect(publish.code, publish.stdout + publish.stderr).toBe(0)
        expect(publish.outputs.published).toBe('alice-laptop')
        const tip = git(bare, 'rev-parse', 'refs/heads/keyfleet/bundles').trim()
        expect(publish.outputs.commit).toBe(tip)
        expect(git(bare, 'ls-tree', '-r', '--name-only', tip).trim().split('\n')).toEqual(['prod/alice-laptop.bundle'])
        expect(git(bare, 'rev-list', '--count', tip).trim()).toBe('1')
        const text = git(bare, 'show', `${tip}:prod/alice-laptop.bundle`)
        // The PUT copy is the same bytes.
        expect(readFileSync(join(nginx.www, 'channel', 'prod', 'alice-laptop.bundle'), 'utf8')).toBe(text)
        // ssh-keygen, split with sed as docs/hosts.md shows.
        const file = join(sb.base, 'check.bundle')
        writeFileSync(file, text)
        writeFileSync(join(sb.base, 'allowed'), `ci ${formatPublicKey(key.publicKey)}`)
        const verify = execFileSync('bash', ['-c', `sed '/^-----BEGIN SSH SIGNATURE-----$/,$d' ${file} > ${file}.msg && sed -n '/^-----BEGIN SSH SIGNATURE-----$/,$p' ${file} > ${file}.sig && ssh-keygen -Y verify -f ${sb.base}/allowed -I ci -n keyfleet-bundle -s ${file}.sig < ${file}.msg 2>&1`], { encoding: 'utf8' })
        expect(verify).toContain('Good "keyfleet-bundle" signature')
        const remote = resolveRemote({ url: 'http://x.invalid/b', signingKey: formatPublicKey(key.publicKey), cacheDir: false }, {})
        const accepted = await acceptBundle(text, remote!, { identity: readFileSync(join(repoRoot, 'examples', 'demo-keys', 'laptop-alice.agekey'), 'utf8') }, undefined)
        expect(accepted.entries.get('OPENAI_API_KEY')).toBe(value)
        expect(accepted.header).toMatchObject({ environment: 'prod', agent: 'alice-laptop' })
        // The render's Secret manifests hold the value by design (out-dir is private); everything else must not.
        const haystacks = leakHaystacks(sb, publish, (p) => p.includes('/secrets/') || p.endsWith('.env'))
        const leaks = [...findLeaks(value, haystacks), ...findLeaks(formatPrivateKey(key).split('\n')[1] as string, haystacks)]
        expect(leaks.join('; ')).toBe('')
        expect(`${String(haystacks.stdout)}${publish.stderr}${publish.summary}${publish.outputFile}`).not.toContain('SECRETSIG')
    }, 120_000)

    it('a second deploy replaces the bundles with a later issue time; another environment keeps its own directory', async () => {
        const before = parseEnvelope(git(bare, 'show', 'refs/heads/keyfleet/bundles:prod/alice-laptop.bundle')).header.issuedAt
        const second = await renderAndPublish('prod', formatPrivateKey(key))
        expect(second.publish.code, second.publish.stdout).toBe(0)
        const after = parseEnvelope(git(bare, 'show', 'refs/heads/keyfleet/bundles:prod/alice-laptop.bundle')).header.issuedAt
        expect(after).toBeGreaterThan(before)
        const dev = await renderAndPublish('dev', formatPrivateKey(devKey))
        expect(dev.publish.code, dev.publish.stdout).toBe(0)
        const tip = git(bare, 'rev-parse', 'refs/heads/keyfleet/bundles').trim()
        expect(git(bare, 'ls-tree', '-r', '--name-only', tip).trim().split('\n')).toEqual(['dev/alice-laptop.bundle', 'prod/alice-laptop.bundle'])
        expect(git(bare, 'rev-list', '--count', tip).trim()).toBe('1')
    }, 120_000)

    it('without a signing key: warns, publishes nothing, and does not fail the deploy', async () => {
        const tip = git(bare, 'rev-parse', 'refs/heads/keyfleet/bundles').trim()
        const { publish } = await renderAndPublish('prod', '', { 'publish-url': 'https://acct.blob.core.windows.net/fleet/{agent}.bundle?sv=1&sig=EARLYSIG' })
        expect(publish.code).toBe(0)
        // The PUT URL is masked even on this early return, before anything else is printed.
        expect(publish.stdout.split('\n')[0]).toMatch(/^::add-mask::/)
        expect(publish.stdout).toContain('::add-mask::sv=1&sig=EARLYSIG')
        expect(publish.stdout).toContain('::warning title=keyfleet bundles not published::')
        expect(git(bare, 'rev-parse', 'refs/heads/keyfleet/bundles').trim()).toBe(tip)
    }, 120_000)

    it('refuses a signing key that is not the committed signing.pub, and publishes nothing', async () => {
        const tip = git(bare, 'rev-parse', 'refs/heads/keyfleet/bundles').trim()
        const { publish } = await renderAndPublish('prod', formatPrivateKey(generateSigningKey('other')))
        expect(publish.code).not.toBe(0)
        expect(publish.stdout).toContain('ACTION_PUBLISH_FAILED')
        expect(git(bare, 'rev-parse', 'refs/heads/keyfleet/bundles').trim()).toBe(tip)
    }, 120_000)
})
