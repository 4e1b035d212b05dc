/**
 * The live key store: serves whole snapshots from its source (local, in
 * store-local.ts, or remote, in remote.ts), swaps in each good read, and
 * reports problems while serving the last good keys. Its pools (selection,
 * cool-downs, delivered weights) live in store-pools.ts.
 */
import { formatHint, keyHint } from '../catalog/hint.js'
import type { KeyfleetError } from '../errors.js'
import { KeyChecker } from './check.js'
import type { BundleInfo } from './decrypt.js'
import { nextDeployed, type Declared, type Deployed } from './deployed.js'
import { TypedEmitter } from './emitter.js'
import { LoaderCode, loaderError } from './errors.js'
import type { KeyFetchOptions } from './fetch.js'
import type { ResolvedOptions } from './options.js'
import { Pool, type KeyChoice } from './pool.js'
import type { RateLimitInfo } from './rate-limit-headers.js'
import type { SourceKind } from './read-source.js'
import { RemoteSource } from './remote.js'
import type { AnswerLike } from './selection.js'
import { changedNames, valueIn, type Snapshot } from './snapshot.js'
import { serveStatus, statusHandler, type ServeStatusOptions, type StatusHandler, type StatusServer } from './status.js'
import { StorePools } from './store-pools.js'
import { LocalSource } from './store-local.js'
import { bundleClaim } from './store-read.js'
import type { CheckEvent, FailureOptions, KeyStore, KeyStoreEvents, KeyView, SourceStatus } from './types.js'
import type { KeyStats } from './usage.js'

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')

const choiceOf = (entry: KeyChoice | Pool | undefined): KeyChoice | undefined =>
    entry === undefined ? undefined : entry instanceof Pool ? entry.next() : entry

/** The {@link KeyStore} implementation; built by `openKeys`. */
export class LiveKeyStore extends TypedEmitter<KeyStoreEvents> implements KeyStore {
    readonly #o: ResolvedOptions
    #snapshot: Snapshot
    #kind: SourceKind | undefined
    #bundle: BundleInfo | undefined
    #deployed: Deployed | undefined
    #lastChangeMs: number | undefined
    readonly #servers = new Set<StatusServer>()
    #problem: KeyfleetError | undefined
    #closed = false
    readonly #local: LocalSource | undefined
    readonly #remote: RemoteSource | undefined
    readonly #checker: KeyChecker | undefined
    // With `check` set: the first keys are not served yet, so the first change runs the first check.
    #checkAwaitsKeys = false
    #started = false
    readonly #onAbort = (): void => { void this.close() }
    readonly #pools: StorePools

    /** @internal Use `openKeys`. */
    constructor(options: ResolvedOptions) {
        super()
        this.#o = options
        this.#pools = new StorePools(options, () => this.#snapshot)
        this.#snapshot = this.#pools.build(new Map(), 0)
        this.#remote = options.remote && new RemoteSource(options.remote, options.identity, options.persistent, {
            apply: ({ entries, info }) => {
                this.#kind = 'age-bundle'
                this.#bundle = info
                // A pulled bundle declares what it is, like a mounted one: rollout status reads it.
                this.#apply(entries, bundleClaim(info))
            },
            problem: (error, fresh) => { this.#problem = error; if (fresh) this.emit('error', error) },
            healthy: () => { this.#problem = undefined },
        })
        this.#local = options.remote === undefined && options.path !== undefined ? new LocalSource(options, options.path, {
            apply: (read) => {
                this.#kind = read.kind
                this.#bundle = read.bundle
                this.#apply(read.entries, read.claim)
            },
            problem: (error, report) => { this.#problem = error; if (report) this.emit('error', error) },
            healthy: () => { this.#problem = undefined },
            served: () => this.#snapshot.values.size,
            watching: (event) => { this.emit('watching', event) },
            fallback: (event) => { this.emit('fallback', event) },
        }) : undefined
        this.#checker = options.check && new KeyChecker(options.check, options.index.catalog, {
            current: () => this.#snapshot,
            emitCheck: (event) => { this.emit('check', event) },
            emitError: (error) => { this.emit('error', error) },
            rejected: (name, value) => { this.#pools.rejected(name, value) },
        })
    }

    /** @internal Arms the source, then reads it once. */
    async start(): Promise<void> {
        this.#o.signal?.addEventListener('abort', this.#onAbort, { once: true })
        await this.#local?.start()
        await this.#remote?.start()
        this.#started = true
        if (this.#checker) {
            if (this.#snapshot.values.size > 0) this.#checker.request()
            else this.#checkAwaitsKeys = true
        }
    }

    get(nameOrService: string): string | undefined {
        return valueIn(this.#snapshot, nameOrService)
    }

    require(nameOrService: string): string {
        const value = this.get(nameOrService)
        if (value !== undefined) return value
        const r = this.#o.index.resolve(nameOrService)
        const names = r ? [r.name, ...r.spec.aliases.map((a) => (r.poolIndex === 1 ? a : `${a}_${r.poolIndex}`))] : [nameOrService]
        const where = this.#o.remote !== undefined
            ? `${this.#o.remote.display}${this.#problem ? ` (source problem: ${this.#problem.code})` : ''}`
            : this.#o.path === undefined
            ? 'no source is configured (set KEYFLEET_SECRETS_PATH or pass path)'
            : `${this.#o.path}${this.#problem ? ` (source problem: ${this.#problem.code})` : ''}`
        throw loaderError(LoaderCode.KEY_MISSING, `no usable value for "${nameOrService}": looked for ${names.join(', ')} in the environment (placeholders ignored) and in ${where}; add the key to the environment's secrets and deployment`, this.#o.path === undefined ? {} : { file: this.#o.path })
    }

    pick(nameOrService: string): KeyChoice | undefined {
        return choiceOf(this.#snapshot.lookup.get(nameOrService))
    }

    reportFailure(key: string | KeyChoice, options?: FailureOptions): boolean {
        return this.#pools.reportFailure(key, options)
    }

    observe(choice: KeyChoice, response: AnswerLike, body?: string): RateLimitInfo {
        return this.#pools.observe(choice, response, body)
    }

    fetch(service: string, url: string | URL, init?: RequestInit, options?: KeyFetchOptions): Promise<Response> {
        return this.#pools.fetch((s) => this.pick(s), service, url, init, options)
    }

    stats(): KeyStats {
        return this.#pools.stats()
    }

    hint(nameOrService: string): string | undefined {
        const entry = this.#snapshot.lookup.get(nameOrService)
        const choice = entry instanceof Pool ? entry.members[0] : entry
        return choice && formatHint(keyHint(choice.name, choice.value, this.#o.index))
    }

    names(): string[] {
        return [...this.#snapshot.values.keys()]
    }

    get generation(): number {
        return this.#snapshot.generation
    }

    view(): KeyView {
        const snapshot = this.#snapshot
        return Object.freeze({
            generation: snapshot.generation,
            get: (nameOrService: string) => valueIn(snapshot, nameOrService),
            names: () => [...snapshot.values.keys()],
        })
    }

    get deployed(): Deployed | undefined {
        return this.#deployed
    }

    statusHandler(): StatusHandler {
        return statusHandler(() => ({ deployed: this.#deployed, generation: this.generation, names: this.names(), source: this.source, lastChangeMs: this.#lastChangeMs, stats: this.stats() }))
    }

    async serveStatus(options?: ServeStatusOptions): Promise<StatusServer> {
        if (this.#closed) throw loaderError(LoaderCode.ABORTED, 'serveStatus was called on a closed key store')
        const server = await serveStatus(this.statusHandler(), options, this.#o.persistent)
        const tracked: StatusServer = { ...server, close: () => { this.#servers.delete(tracked); return server.close() } }
        this.#servers.add(tracked)
        return tracked
    }

    get lastCheck(): CheckEvent | undefined {
        return this.#checker?.last
    }

    get source(): SourceStatus {
        const mode = this.#closed ? 'none' : this.#remote ? 'poll' : this.#local?.mode ?? 'none'
        return { path: this.#o.path ?? this.#o.remote?.display, kind: this.#kind, bundle: this.#bundle, mode, problem: this.#problem }
    }

    async close(): Promise<void> {
        if (this.#closed) return
        this.#closed = true
        this.#o.signal?.removeEventListener('abort', this.#onAbort)
        this.#local?.close()
        this.#remote?.close()
        this.#checker?.close()
        await Promise.all([...this.#servers].map((s) => s.close()))
        this.removeAll()
    }

    async [asyncDispose](): Promise<void> {
        await this.close()
    }

    // Swaps in a good read: what the source declares, its weights, then the keys (when they changed).
    #apply(entries: ReadonlyMap<string, string>, claim: Declared | undefined): void {
        this.#deployed = nextDeployed(entries, claim, this.#deployed, Date.now())
        const before = this.#snapshot
        const reweighted = this.#pools.deliver(claim?.weights)
        const next = this.#pools.build(entries, before.generation + 1, false)
        const names = changedNames(before, next)
        if (names.length === 0) {
            // Weights alone changed: the snapshot served keeps its keys, its pools take the weights.
            if (reweighted) this.#pools.reattach()
            return
        }
        this.#pools.adopt(next)
        this.#snapshot = next
        this.#lastChangeMs = Date.now()
        this.emit('change', { names, generation: next.generation, deployed: this.#deployed })
        if (this.#checker && this.#started && (this.#o.check?.onChange === true || this.#checkAwaitsKeys) && next.values.size > 0) {
            this.#checkAwaitsKeys = false
            this.#checker.request()
        }
    }
}
