/**
 * `command: publish`: after render, signs every bundle agent's bundle with
 * the environment's CI signing key (input `signing-key`, masked as read) in
 * the keyfleet-signed-bundle/v1 envelope, and publishes the signed bundles
 * to the bundles branch (input `bundles-branch`, default `keyfleet/bundles`:
 * `<env>/<agent>.bundle`, only the current ones) and, when `publish-url` is
 * set, with one HTTP PUT each to that URL template (`{environment}` and
 * `{agent}` replaced; a pre-signed S3/GCS/Azure URL or a WebDAV server).
 * The bundles are age-encrypted to each host, so the channel may be public.
 */
import * as core from '@actions/core'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { signingKeyPath } from '../../lifecycle/environments.js'
import { bundlePath } from '../../render/bundle.js'
import { fingerprint, parsePrivateKey, parsePublicKey, signEnvelope, type PrivateSigningKey } from '../../sign/index.js'
import { writeFileAtomic } from '../../repo/atomic.js'
import { authEnv, gitIn } from '../deploy/git.js'
import { maskAll } from '../mask.js'
import { PUBLISH_ATTEMPTS, botEnv, buildCommit, fetchTip, lastIssuedAt, pushLeased, scratch } from './publish-git.js'
import type { CommandContext, CommandResult } from './types.js'

const fail = (message: string): KeyfleetError => new KeyfleetError('ACTION_PUBLISH_FAILED', message)

/** The signing key, masked before it is parsed, and checked against the committed signing.pub. */
const signingKey = (ctx: CommandContext, env: string, text: string): PrivateSigningKey => {
    const key = parsePrivateKey(text)
    let pinned: string | undefined
    try { pinned = readFileSync(join(ctx.inputs.root, signingKeyPath(env)), 'utf8') } catch { pinned = undefined }
    if (pinned === undefined) throw fail(`${signingKeyPath(env)} is missing: commit the environment's public signing key, which hosts pin (docs/hosts.md)`)
    if (!parsePublicKey(pinned).raw.equals(key.publicKey.raw)) {
        throw fail(`the signing-key secret (${fingerprint(key.publicKey)}) is not the key of ${signingKeyPath(env)} (${fingerprint(parsePublicKey(pinned))}); hosts would refuse every bundle. Upload the matching KEYFLEET_SIGNING_KEY`)
    }
    return key
}

/**
 * Headers of a bundle PUT. Azure Blob's Put Blob refuses a request without
 * `x-ms-blob-type`; it goes to Azure hosts only, since an S3 or GCS URL may be
 * pre-signed over its headers and one it did not sign could be refused.
 */
export const putHeaders = (url: URL): Record<string, string> => ({
    'content-type': 'text/plain',
    ...(url.hostname.toLowerCase().endsWith('.blob.core.windows.net') ? { 'x-ms-blob-type': 'BlockBlob' } : {}),
})

/** PUTs each signed bundle to the URL template; names the URL without its query (a pre-signed credential). */
const putAll = async (template: string, env: string, bundles: ReadonlyMap<string, string>): Promise<number> => {
    for (const [agent, text] of bundles) {
        const url = new URL(template.replaceAll('{environment}', encodeURIComponent(env)).replaceAll('{agent}', encodeURIComponent(agent)))
        const where = `${url.origin}${url.pathname}`
        let status: number
        try {
            const r = await fetch(url, { method: 'PUT', body: text, headers: putHeaders(url), signal: AbortSignal.timeout(30_000) })
            await r.body?.cancel()
            status = r.status
        } catch {
            throw fail(`cannot PUT the bundle of ${agent} to ${where} (network error); the branch channel is published, this one is not`)
        }
        if (status < 200 || status >= 300) throw fail(`PUT ${where} answered ${status} for ${agent}; the branch channel is published, this one is not. Check the URL template and its expiry`)
    }
    return bundles.size
}

/**
 * Signs and publishes.
 * @throws KeyfleetError `ACTION_BAD_INPUT` (no signing key, no out-dir), `SIGN_KEY_INVALID`,
 *   `ACTION_PUBLISH_FAILED` (key not the committed one, push refused, branch kept moving, PUT failed).
 */
export const runPublish = async (ctx: CommandContext): Promise<CommandResult> => {
    const env = ctx.inputs.environment as string
    const outDir = ctx.inputs.outDir
    if (outDir === undefined) throw new KeyfleetError('ACTION_BAD_INPUT', 'command "publish" needs the out-dir input: the render step\'s out-dir')
    const keyText = core.getInput('signing-key')
    // The PUT URL template is a write credential (pre-signed, SAS): masked before anything can print it.
    const template = core.getInput('publish-url')
    maskAll([keyText, template, template.includes('?') ? template.slice(template.indexOf('?') + 1) : ''], ctx.setSecret)
    if (keyText.trim() === '') {
        // Not a failure: the apply already happened, and a repository without bundle signing (the demo, one set up
        // before it existed) deploys as before. The warning says what hosts are missing.
        const message = `no signing-key (the KEYFLEET_SIGNING_KEY secret of ${env}): the bundles of ${ctx.inputs.agents.filter((a) => a.target === 'bundle').length} bundle agents were not published, so hosts do not get this deploy. Create the key (docs/hosts.md) to publish them`
        return { findings: [], summary: [`_${message}_\n`], outputs: { published: '' }, failed: false, warnings: [{ title: 'keyfleet bundles not published', message }] }
    }
    const key = signingKey(ctx, env, keyText)
    const branch = core.getInput('bundles-branch') || 'keyfleet/bundles'
    const agents = ctx.inputs.agents.filter((a) => a.target === 'bundle')
    const git = gitIn(ctx.inputs.root, ctx.env, { ...authEnv(ctx.inputs.token, ctx.env.GITHUB_SERVER_URL ?? 'https://github.com', ctx.setSecret), ...botEnv })
    const signedDir = join(outDir, 'signed', env)
    mkdirSync(signedDir, { recursive: true })
    const indexGit = gitIn(ctx.inputs.root, ctx.env, { ...botEnv, GIT_INDEX_FILE: scratch(ctx.workspace().path('publish')) })
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
        const tip = await fetchTip(git, branch)
        // Strictly after every bundle of this environment already published: a host never sees time go back.
        const issuedAt = Math.max(Date.now(), await lastIssuedAt(git, tip, env) + 1)
        const texts = new Map<string, string>()
        const files = new Map<string, string>()
        for (const agent of agents) {
            if (agent.generation === null) throw fail(`the agents input has no generation for ${agent.name}; pass the render step's agents output`)
            const ciphertext = readFileSync(join(outDir, bundlePath(agent.name)), 'utf8')
            const text = signEnvelope({ environment: env, agent: agent.name, generation: agent.generation, issuedAt }, ciphertext, key)
            const file = join(signedDir, `${agent.name}.bundle`)
            writeFileAtomic(file, text, 0o644)
            texts.set(agent.name, text)
            files.set(file, `${env}/${agent.name}.bundle`)
        }
        const commit = await buildCommit(indexGit, tip, env, files, `keyfleet: publish ${env} bundles (${agents.map((a) => a.name).join(', ') || 'none'})`)
        if (!(await pushLeased(git, commit, tip, branch))) continue
        const put = template === '' ? 0 : await putAll(template, env, texts)
        const rows = agents.map((a) => `| ${a.name} | \`${a.generation ?? ''}\` | \`${branch}:${env}/${a.name}.bundle\` |`)
        return {
            findings: [],
            summary: [`### Published ${agents.length} signed bundles (${env})\n\nSigned by \`${fingerprint(key.publicKey)}\`, issued ${new Date(issuedAt).toISOString()}${put > 0 ? `; also PUT to ${put} URLs` : ''}.\n\n| agent | generation | path |\n|---|---|---|\n${rows.join('\n')}\n`],
            outputs: { published: agents.map((a) => a.name).join(','), commit, 'issued-at': String(issuedAt) },
            failed: false,
        }
    }
    throw fail(`${branch} kept moving during ${PUBLISH_ATTEMPTS} attempts (other deploys publishing); nothing of this run was published. Re-run the job`)
}
