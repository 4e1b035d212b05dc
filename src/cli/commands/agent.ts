/**
 * `keyfleet agent init|register`: bootstrap an agent host. `init` runs on the
 * host and creates its age identity; `register` runs in the repository and
 * adds the agent to the environment's deployment.yaml.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateIdentity, parseIdentityFile, recipientOf } from '../../age/index.js'
import { KeyfleetError } from '../../errors.js'
import { registerAgent } from '../../lifecycle/index.js'
import { writeFileAtomic } from '../../repo/atomic.js'
import { assertEnvironment } from '../../repo/layout.js'
import type { CliContext, Command, CommandArgs } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { openRepo } from '../repo-context.js'
import { identityFileText } from './keygen.js'

/** Where `agent init` keeps the host identity unless --out says otherwise. */
export const DEFAULT_AGENT_IDENTITY = '.config/keyfleet/agent.agekey'

const list = (value: unknown): string[] =>
    (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)

const init = async ({ positionals, values }: CommandArgs, ctx: CliContext): Promise<number> => {
    if (positionals.length !== 1) throw new KeyfleetError('USAGE', 'expected: keyfleet agent init [--out FILE] [--pq]')
    const out = values.out as string | undefined
    if (out === undefined && !ctx.env.HOME) throw new KeyfleetError('USAGE', 'HOME is not set; pass --out FILE for the identity')
    const path = out === undefined ? join(ctx.env.HOME as string, DEFAULT_AGENT_IDENTITY) : resolve(ctx.cwd, out)
    if (existsSync(path)) {
        // Re-running the bootstrap is safe: the identity is never replaced, only its recipient shown again.
        const [identity] = parseIdentityFile(readFileSync(path, 'utf8'), path)
        ctx.stdout.write(`${await recipientOf(identity as string)}\n`)
        ctx.stderr.write(`${path} already exists; kept it (keyfleet never overwrites an identity). Its recipient is above.\n`)
        return ExitCode.ok
    }
    const { identity, recipient } = await generateIdentity(values.pq === true ? 'hybrid' : 'x25519')
    mkdirSync(resolve(path, '..'), { recursive: true, mode: 0o700 })
    writeFileAtomic(path, identityFileText(identity, recipient, 'keyfleet agent identity: decrypts this host\'s bundle'), 0o600)
    ctx.stdout.write(`${recipient}\n`)
    ctx.stderr.write(`wrote ${path} (mode 0600). Register this host from the repository:\n  keyfleet agent register <env> <name> --recipient ${recipient} --keys claude,openai --cloud local\n`)
    return ExitCode.ok
}

const register = async ({ positionals, values }: CommandArgs, ctx: CliContext): Promise<number> => {
    const [, env, name] = positionals as [string, string | undefined, string | undefined]
    if (env === undefined || name === undefined) throw new KeyfleetError('USAGE', 'expected: keyfleet agent register <env> <name> --keys … --cloud … (--recipient age1… | --namespace NS)')
    const keys = list(values.keys)
    const cloud = values.cloud as string | undefined
    if (keys.length === 0) throw new KeyfleetError('USAGE', '--keys is required: the env names or services this agent may read, e.g. --keys claude,openai')
    if (cloud === undefined) throw new KeyfleetError('USAGE', '--cloud is required: aws, azure, gcp, onprem or local')
    const repo = openRepo(ctx)
    const paths = assertEnvironment(repo.root, env, repo.catalog.environments)
    const file = join(repo.root, paths.deployment)
    const text = existsSync(file) ? readFileSync(file, 'utf8') : `environment: ${env}\nagents: []\n`
    const recipient = values.recipient as string | undefined
    const namespace = values.namespace as string | undefined
    const out = registerAgent(text, paths.deployment, {
        name, cloud, keys, ...(recipient !== undefined ? { recipient } : {}), ...(namespace !== undefined ? { namespace } : {}),
    }, repo.catalog)
    writeFileAtomic(file, out, 0o644)
    ctx.stdout.write(`registered ${name} in ${paths.deployment} (${recipient !== undefined ? 'bundle' : `kubernetes, namespace ${namespace ?? ''}`}; keys: ${keys.join(', ')})\n`)
    ctx.stderr.write(`next: commit ${paths.deployment} and open a pull request; the deploy job renders ${recipient !== undefined ? 'its bundle' : 'its Secret'} on merge\n`)
    return ExitCode.ok
}

export const command: Command = {
    name: 'agent',
    summary: 'Bootstrap an agent: create a host identity, or register an agent in deployment.yaml',
    usage: 'agent <init [--out FILE] | register <env> <name> --keys … --cloud … (--recipient age1… | --namespace NS)>',
    positionals: [1, 3],
    help: `init      on the host: create its age identity (mode 0600; default
          ~/${DEFAULT_AGENT_IDENTITY}) and print its recipient. Re-running keeps the
          existing identity and prints its recipient again.
register  in the repository: add the agent to environments/<env>/deployment.yaml
          (comments and order kept). With --recipient it is a bundle target (the host
          decrypts its own age bundle), otherwise a kubernetes target in --namespace.
          Refuses a duplicate name, a bad recipient, or a result with findings;
          nothing is written then.

Examples:
  keyfleet agent init
  keyfleet agent register dev bob-laptop --recipient age1… --keys claude,openai --cloud local
  keyfleet agent register prod summarizer --namespace agents-prod --keys claude --cloud gcp`,
    options: {
        out: { type: 'string', arg: 'FILE', description: `init: identity file (default ~/${DEFAULT_AGENT_IDENTITY})` },
        pq: { type: 'boolean', description: 'init: post-quantum hybrid identity (age1pq1…)' },
        recipient: { type: 'string', arg: 'AGE1', description: 'register: the host\'s recipient (bundle target)' },
        namespace: { type: 'string', arg: 'NS', description: 'register: Kubernetes namespace (kubernetes target)' },
        keys: { type: 'string', multiple: true, arg: 'LIST', description: 'register: names or services, comma-separated' },
        cloud: { type: 'string', arg: 'CLOUD', description: 'register: aws, azure, gcp, onprem or local' },
    },
    run: async (args, ctx) => {
        const action = args.positionals[0]
        if (action === 'init') return init(args, ctx)
        if (action === 'register') return register(args, ctx)
        throw new KeyfleetError('USAGE', `unknown action "${String(action).slice(0, 20)}"; expected init or register`)
    },
}
