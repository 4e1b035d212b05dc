/**
 * The action's inputs, read once and checked before any work starts. The
 * `age-key` input is masked the moment it is read, before it is parsed, so
 * not even a parse error can print it unmasked.
 */
import * as core from '@actions/core'
import { isAbsolute, relative, resolve } from 'node:path'
import { parseIdentityFile } from '../age/index.js'
import { KeyfleetError } from '../errors.js'
import type { AgentOutput } from './commands/render.js'
import { parseAllowedOrigins } from '../probe/url.js'
import { maskAll, type SetSecret } from './mask.js'

/** Commands the action runs. */
export const COMMANDS = ['validate', 'diff', 'render', 'check', 'fold', 'guard', 'catch-up', 'apply', 'rollout', 'push-fold', 'publish'] as const
/** The deploy workflow's steps (docs/github-action.md, "Deploy steps"): they take no age-key. */
const DEPLOY_STEPS: readonly string[] = ['guard', 'catch-up', 'apply', 'rollout', 'push-fold', 'publish']
/** One of {@link COMMANDS}. */
export type ActionCommand = (typeof COMMANDS)[number]

/** The checked inputs. Identities are secrets: never print them. */
export interface ActionInputs {
    readonly command: ActionCommand
    /** One environment, or undefined for "every environment in the catalog". */
    readonly environment: string | undefined
    /** age identities from `age-key`; empty means a key-less run. */
    readonly identities: readonly string[]
    /** Git revision to compare with (diff, and the change table of render). */
    readonly baseRef: string | undefined
    /** Absolute directory for rendered output (render only); undefined renders a dry run into the workspace. */
    readonly outDir: string | undefined
    /** Absolute repository root: `GITHUB_WORKSPACE`, else the working directory. */
    readonly root: string
    /** check, fold: ask each provider whether a key works (input `live`; default true for check, false for fold). */
    readonly live: boolean
    /** check, fold: a key that could not be checked (unknown) is an error (input `strict`, default false). */
    readonly strict: boolean
    /** check, fold: provider (service or name) → base URL replacing the catalog's (input `base-urls`). */
    readonly baseUrls: Readonly<Record<string, string>>
    /** catch-up, push-fold: the token git fetches and pushes with (input `token`); masked as read. */
    readonly token: string
    /** apply: the kubeconfig (input `kubeconfig`); masked as read, empty means nothing is applied. */
    readonly kubeconfig: string
    /** rollout: how long to wait for every agent to serve the render (input `timeout`, e.g. `3m`); empty: 3m. */
    readonly timeout: string
    /** apply, rollout: the render step's `agents` output (input `agents`). */
    readonly agents: readonly AgentOutput[]
    /** push-fold: the fold step's `folded` output, for the commit body (input `folded`). */
    readonly folded: string
    /**
     * Probe origins the catalog may send keys to besides the built-in providers' (input
     * `allowed-origins`, comma-separated; wire it to a repository variable such as
     * `vars.KEYFLEET_ALLOWED_ORIGINS`, which a pull request cannot change).
     */
    readonly allowedOrigins: readonly string[]
}

const ENV_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/

const usage = (message: string): KeyfleetError => new KeyfleetError('ACTION_BAD_INPUT', message)

// The YAML 1.2 core schema booleans, as core.getBooleanInput accepts them.
const TRUE = ['true', 'True', 'TRUE']
const FALSE = ['false', 'False', 'FALSE']

/**
 * A boolean input; empty means `fallback`.
 * @throws KeyfleetError `ACTION_BAD_INPUT` for anything but true/false.
 */
export const booleanInput = (name: string, fallback: boolean): boolean => {
    const raw = core.getInput(name)
    if (raw === '') return fallback
    if (TRUE.includes(raw)) return true
    if (FALSE.includes(raw)) return false
    throw usage(`input ${name} must be true or false (got "${raw.slice(0, 20)}").`)
}

/**
 * The `base-urls` input: one `PROVIDER=URL` per line (blank lines and `#`
 * comments ignored). Only the shape is checked here; the provider names and
 * URLs are checked against the catalog before any key is sent.
 * @throws KeyfleetError `ACTION_BAD_INPUT` for a line without `=`, or a provider given twice.
 */
export const parseBaseUrls = (text: string): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
        const line = raw.trim()
        if (line === '' || line.startsWith('#')) continue
        const eq = line.indexOf('=')
        const provider = line.slice(0, Math.max(eq, 0)).trim()
        const url = line.slice(eq + 1).trim()
        if (eq <= 0 || provider === '' || url === '') {
            throw usage(`base-urls line ${i + 1} is not PROVIDER=URL, e.g. openai=https://llm-gateway.internal/openai.`)
        }
        if (Object.hasOwn(out, provider)) throw usage(`base-urls names ${provider.slice(0, 40)} twice (line ${i + 1}).`)
        out[provider] = url
    }
    return out
}

/**
 * The `agents` input (render's `agents` output).
 * @throws KeyfleetError `ACTION_BAD_INPUT` when it is not that JSON array.
 */
export const parseAgents = (text: string): AgentOutput[] => {
    if (text.trim() === '') return []
    let parsed: unknown
    try { parsed = JSON.parse(text) } catch { throw usage('input agents is not JSON: pass the render step\'s agents output, e.g. `agents: ${{ steps.render.outputs.agents }}`.') }
    const str = (v: unknown): boolean => v === null || typeof v === 'string'
    if (!Array.isArray(parsed) || !parsed.every((x) => { const a = x as Record<string, unknown> | null; return a !== null && typeof a === 'object' && typeof a.name === 'string' && (a.target === 'kubernetes' || a.target === 'bundle') && str(a.namespace) && str(a.deployment) && str(a.generation) })) {
        throw usage('input agents must be the render step\'s agents output (a JSON array of {name, target, namespace, deployment, generation}).')
    }
    return parsed as AgentOutput[]
}

/**
 * Reads, masks and checks the inputs.
 *
 * @param env - The process environment (for `GITHUB_WORKSPACE`).
 * @param setSecret - Issues a mask; `core.setSecret` unless a caller dedupes it.
 * @throws KeyfleetError `ACTION_BAD_INPUT` for an unknown command, a bad
 *   environment name or a missing input a command needs; `AGE_BAD_IDENTITY_FILE`
 *   when `age-key` is not a keys.txt-style identity list (the message names a
 *   line number, never its content).
 */
export const readInputs = (env: NodeJS.ProcessEnv, setSecret: SetSecret = core.setSecret): ActionInputs => {
    // Mask first: even a malformed key must not reach the log. The whole
    // input as it is (the runner also masks each of its lines), then every
    // non-comment line in all its encoded forms.
    const ageKey = core.getInput('age-key', { trimWhitespace: false })
    if (ageKey !== '') setSecret(ageKey)
    maskAll(ageKey.split(/\r?\n/).map((line) => line.trim()).filter((line) => !line.startsWith('#')), setSecret)
    const token = core.getInput('token')
    if (token !== '') setSecret(token)
    const kubeconfig = core.getInput('kubeconfig', { trimWhitespace: false })
    if (kubeconfig.trim() !== '') setSecret(kubeconfig)
    maskAll(kubeconfig.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length >= 16), setSecret)

    const command = core.getInput('command', { required: true })
    if (!(COMMANDS as readonly string[]).includes(command)) {
        throw usage(`unknown command "${command}": expected one of ${COMMANDS.join(', ')}.`)
    }

    const environment = core.getInput('environment') || undefined
    if (environment !== undefined && !ENV_NAME.test(environment)) {
        throw usage(`environment "${environment}" is not a valid environment name (lowercase letters, digits, "-" and "_").`)
    }

    const identities = ageKey.trim() === '' ? [] : parseIdentityFile(ageKey, 'the age-key input')
    const workspaceRoot = resolve(env.GITHUB_WORKSPACE || process.cwd())
    // repository-path: the checkout to work on when the action's own code comes from another checkout.
    const root = resolve(workspaceRoot, core.getInput('repository-path') || '.')
    const outInput = core.getInput('out-dir')
    const outDir = outInput === '' ? undefined : isAbsolute(outInput) ? outInput : resolve(root, outInput)
    const baseRef = core.getInput('base-ref') || undefined
    const inside = (base: string): boolean => outDir !== undefined && !relative(base, outDir).startsWith('..') && !isAbsolute(relative(base, outDir))
    if (inside(root) || inside(workspaceRoot)) {
        throw usage('out-dir must be outside the repository checkout (rendered Secrets hold plaintext keys): use e.g. `${{ runner.temp }}/keyfleet-render`.')
    }

    if (command === 'render') {
        if (environment === undefined) throw usage('command "render" needs the environment input (one of the environments in environments/keyfleet.yaml).')
        if (identities.length === 0) throw usage('command "render" needs the age-key input: pass the environment\'s CI identity, e.g. `age-key: ${{ secrets.SOPS_AGE_KEY }}`.')
    }
    // check and fold both hold values a provider can be asked about; fold only when asked.
    const probes = command === 'check' || command === 'fold'
    const live = booleanInput('live', command === 'check')
    const strict = booleanInput('strict', false)
    const baseUrls = parseBaseUrls(core.getInput('base-urls'))
    if (!probes && (core.getInput('live') !== '' || core.getInput('strict') !== '' || Object.keys(baseUrls).length > 0)) {
        throw usage('the inputs live, strict and base-urls apply to commands "check" and "fold" only.')
    }
    if (probes) {
        if (environment === undefined) throw usage(`command "${command}" needs the environment input (one of the environments in environments/keyfleet.yaml).`)
        if (identities.length === 0) throw usage(`command "${command}" needs the age-key input: pass the environment's CI identity, e.g. \`age-key: \${{ secrets.SOPS_AGE_KEY }}\`.`)
        if (!live && Object.keys(baseUrls).length > 0) throw usage('base-urls only applies with live: true.')
    }
    if (command === 'diff' && baseRef === undefined) {
        throw usage('command "diff" needs the base-ref input, e.g. `base-ref: ${{ github.event.pull_request.base.sha }}`.')
    }
    if (DEPLOY_STEPS.includes(command) && identities.length > 0) throw usage(`command "${command}" takes no age-key input: it never decrypts.`)
    if ((command === 'apply' || command === 'rollout' || command === 'push-fold' || command === 'publish') && environment === undefined) throw usage(`command "${command}" needs the environment input.`)
    const agents = parseAgents(core.getInput('agents'))
    if (identities.length > 0 && environment === undefined) {
        throw usage('the age-key input decrypts one environment: set the environment input as well.')
    }
    const allowedOrigins = parseAllowedOrigins(core.getInput('allowed-origins').split(','))
    return { command: command as ActionCommand, environment, identities, baseRef, outDir, root, live: probes && live, strict, baseUrls, allowedOrigins, token, kubeconfig, agents, folded: core.getInput('folded'), timeout: core.getInput('timeout') }
}
