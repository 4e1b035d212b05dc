/**
 * The live key store: reads the source, swaps whole snapshots, watches
 * directories (or polls), and reports problems while serving the last good keys.
 */
import { formatHint, keyHint } from '../catalog/hint.js'
import { KeyfleetError, isKeyfleetError } from '../errors.js'
import { KeyChecker } from './check.js'
import { openBundle, openSops, type BundleInfo } from './decrypt.js'
import { declared, nextDeployed, parseGenerationEntry, type Deployed } from './deployed.js'
import { TypedEmitter } from './emitter.js'
import { LoaderCode, loaderError, systemCause } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { Polling } from './polling.js'
import { Pool, type KeyChoice } from './pool.js'
import { readSource, type RawSource, type SourceKind } from './read-source.js'
import { RemoteSource } from './remote.js'
import { readSettled } from './settle.js'
import { buildSnapshot, changedNames, valueIn, type Snapshot } from './snapshot.js'
import { serveStatus, statusHandler, type ServeStatusOptions, type StatusHandler, type StatusServer } from './status.js'
import type { CheckEvent, FailureOptions, KeyStore, KeyStoreEvents, KeyView, SourceStatus } from './types.js'
import { DirWatchers, watchTargets } from './watch.js'
import { fetchWithKey, type KeyFetchOptions } from './fetch.js'
import type { RateLimitInfo } from './rate-limit-headers.js'
import { KeySelection, type AnswerLike } from './selection.js'
import type { KeyStats } from './usage.js'

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')

const choiceOf = (entry: KeyChoice | Pool | undefined): KeyChoice | undefined =>
    entry === undefined ? undefined : entry instanceof Pool ? entry.next() : entry

/** The {@link KeyStore} implementation; built by `openKeys`. */
export class LiveKeyStore extends TypedEmitter<KeyStoreEvents> implements KeyStore {
    readonly #o: ResolvedOptions
    #snapshot: Snapshot
    #entries: ReadonlyMap<string, string> = new Map()
    #fingerprint: string | undefined
    #kind: SourceKind | undefined
    #bundle: BundleInfo | undefined
    #deployed: Deployed | undefined
    #lastChangeMs: number | undefined
    readonly #servers = new Set<StatusServer>()
    #problem: KeyfleetError | undefined
    #reported: string | undefined
    #failStreak = 0
    readonly #cooldowns = new Map<string, { until: number; value: string }>()
    #watchers: DirWatchers | undefined
    #mode: SourceStatus['mode']
    #scheduled = false
    #reloading = false
    #dirty = false
    #closed = false
    readonly #polling: Polling
    #retryTimer: NodeJS.Timeout | undefined
    #settleTimer: NodeJS.Timeout | undefined
    #settleWake: (() => void) | undefined
    readonly #checker: KeyChecker | undefined
    readonly #remote: RemoteSource | undefined
    // With `check` set: the first keys are not served yet, so the first change runs the first check.
    #checkAwaitsKeys = false
    #started = false
    readonly #onAbort = (): void => { void this.close() }
    readonly #selection: KeySelection

    /** @internal Use `openKeys`. */
    constructor(options: ResolvedOptions) {
        super()
        this.#o = options
        this.#selection = new KeySelection(options.selection, options.index)
        this.#snapshot = this.#build(new Map(), 0)
        this.#mode = options.remote !== undefined ? 'poll' : options.path === undefined ? 'none' : options.watch === false ? 'poll' : 'watch'
        this.#remote = options.remote && new RemoteSource(options.remote, options.identity, options.persistent, {
            apply: ({ entries, info }) => {
                this.#kind = 'age-bundle'
                this.#bundle = info
                // A pulled bundle declares what it is, like a mounted one: rollout status reads it.
                this.#deployed = nextDeployed(entries, declared(info.environment, info.agent, info.generation), this.#deployed, Date.now())
                this.#apply(entries)
            },
            problem: (error, fresh) => { this.#problem = error; if (fresh) this.emit('error', error) },
            healthy: () => { this.#problem = undefined },
        })
        this.#polling = new Polling(options, {
            reload: () => { void this.#reload() },
            rearm: () => {
                if (this.#closed || !this.#watchers) return false
                this.#watchers.rearm()
                this.#syncWatches()
                return !this.#watchers.failed
            },
            watching: (afterMs, attempts) => {
                this.#mode = 'watch'
                this.emit('watching', { afterMs, attempts })
                // The watch exists now; read once so a change since the last poll is not missed.
                void this.#reload()
            },
        })
        this.#checker = options.check && new KeyChecker(options.check, options.index.catalog, {
            current: () => this.#snapshot,
            emitCheck: (event) => { this.emit('check', event) },
            emitError: (error) => { this.emit('error', error) },
            rejected: (name, value) => { this.#rejected(name, value) },
        })
    }

    /** @internal Arms the watches, then reads once (in that order, so no change slips in between). */
    async start(): Promise<void> {
        this.#o.signal?.addEventListener('abort', this.#onAbort, { once: true })
        if (this.#o.path !== undefined) {
            if (this.#o.watch === false) this.#polling.start()
            else this.#watchers = new DirWatchers(this.#o.watch, () => { this.#schedule() }, (reason) => { this.#fallback(reason) })
            this.#syncWatches()
            await this.#reload()
        }
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

    reportFailure(key: string | KeyChoice, options: FailureOptions = {}): boolean {
        const name = typeof key === 'string' ? key : key.name
        const choice = this.#snapshot.lookup.get(name)
        if (choice === undefined || choice instanceof Pool) return false
        const r = this.#o.index.resolve(choice.name)
        const pool = r && this.#snapshot.lookup.get(r.spec.service)
        if (!(pool instanceof Pool)) return false
        const until = Date.now() + Math.max(0, options.cooldownMs ?? 60_000)
        this.#cooldowns.set(choice.name, { until, value: choice.value })
        this.#selection.coolDown(choice.name, until)
        return pool.coolDown(choice.name, until)
    }

    observe(choice: KeyChoice, response: AnswerLike, body?: string): RateLimitInfo {
        const { info, until, now } = this.#selection.observe(this.#snapshot, choice, response, body)
        if (until !== undefined) this.reportFailure(choice, { cooldownMs: until - now })
        return info
    }

    fetch(service: string, url: string | URL, init?: RequestInit, options?: KeyFetchOptions): Promise<Response> {
        const deps = this.#selection.fetchDeps(() => this.#snapshot, (s) => this.pick(s), (c, r, b) => { this.observe(c, r, b) })
        return fetchWithKey(deps, service, url, init, options)
    }

    stats(): KeyStats {
        return this.#selection.stats(this.#snapshot)
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
        return { path: this.#o.path ?? this.#o.remote?.display, kind: this.#kind, bundle: this.#bundle, mode: this.#closed ? 'none' : this.#mode, problem: this.#problem }
    }

    async close(): Promise<void> {
        if (this.#closed) return
        this.#closed = true
        this.#o.signal?.removeEventListener('abort', this.#onAbort)
        this.#watchers?.close()
        this.#polling.stop()
        this.#remote?.close()
        clearTimeout(this.#retryTimer)
        clearTimeout(this.#settleTimer)
        this.#settleWake?.()
        this.#checker?.close()
        await Promise.all([...this.#servers].map((s) => s.close()))
        this.removeAll()
    }

    async [asyncDispose](): Promise<void> {
        await this.close()
    }

    #build(entries: ReadonlyMap<string, string>, generation: number): Snapshot {
        const now = Date.now()
        const coolUntil = (choice: KeyChoice): number => {
            const c = this.#cooldowns.get(choice.name)
            // A rotated key starts fresh: the cool-down belonged to the old value.
            return c && c.value === choice.value && c.until > now ? c.until : 0
        }
        const snapshot = buildSnapshot(entries, this.#o.env, this.#o.index, generation, coolUntil, this.#o.preferNewest)
        // preferNewest pools pick for themselves (issue 17), unless a selection strategy was asked for.
        if (!this.#o.preferNewest || this.#o.selection !== undefined) this.#selection.attach(snapshot, coolUntil)
        return snapshot
    }

    // Coalesces a burst of events into one read on the next turn (or after debounceMs).
    #schedule(): void {
        if (this.#scheduled || this.#closed) return
        this.#scheduled = true
        const run = (): void => { this.#scheduled = false; void this.#reload() }
        if (this.#o.debounceMs > 0) setTimeout(run, this.#o.debounceMs).unref()
        else setImmediate(run)
    }

    // Reads are serialised: an event during an (async) decrypt marks the store dirty and reads again.
    async #reload(): Promise<void> {
        if (this.#closed) return
        if (this.#reloading) { this.#dirty = true; return }
        this.#reloading = true
        try {
            do {
                this.#dirty = false
                await this.#reloadOnce()
                if (this.#syncWatches()) this.#dirty = true
            } while (this.#dirty && !this.#closed)
        } finally {
            this.#reloading = false
        }
    }

    async #reloadOnce(): Promise<void> {
        const path = this.#o.path as string
        try {
            let raw: RawSource | undefined = readSource(path)
            if (raw.kind === 'missing') { this.#missing(path); return }
            if (raw.fingerprint === this.#fingerprint) { this.#healthy(); return }
            // A single file may be mid-write (a prefix that parses): swap only once it is stable.
            if (raw.kind !== 'directory' && this.#o.settleMs > 0) {
                raw = await readSettled(path, raw, this.#o.settleMs, (ms) => this.#pause(ms))
                if (raw === undefined || this.#closed) return
                if (raw.kind === 'missing') { this.#missing(path); return }
                if (raw.fingerprint === this.#fingerprint) { this.#healthy(); return }
            }
            let entries: ReadonlyMap<string, string>
            let bundle: BundleInfo | undefined
            if (raw.kind === 'sops') entries = await openSops(raw.text, raw.store, this.#o.identity, path)
            else if (raw.kind === 'age-bundle') ({ entries, info: bundle } = await openBundle(raw.bytes, this.#o.identity, path))
            else entries = raw.entries
            if (this.#closed) return
            this.#fingerprint = raw.fingerprint
            this.#kind = raw.kind
            this.#bundle = bundle
            const claim = raw.kind === 'directory' ? parseGenerationEntry(raw.generationEntry)
                : bundle ? declared(bundle.environment, bundle.agent, bundle.generation) : undefined
            this.#deployed = nextDeployed(entries, claim, this.#deployed, Date.now())
            this.#apply(entries)
            this.#healthy()
        } catch (error) {
            this.#fail(isKeyfleetError(error)
                ? error
                : new KeyfleetError('LOADER_INTERNAL', `unexpected failure while reading ${path}; keeping the last good keys (please report this)`, { file: path, cause: systemCause(error) }))
        }
    }

    #missing(path: string): void {
        this.#fail(loaderError(LoaderCode.SOURCE_MISSING, `${path} does not exist (yet); serving ${this.#snapshot.values.size} last known keys and waiting for it to appear`, { file: path }))
    }

    // The stability check's wait; close() cuts it short. Resolves false once the store is closed.
    #pause(ms: number): Promise<boolean> {
        return new Promise((resolve) => {
            const wake = (): void => {
                clearTimeout(this.#settleTimer)
                this.#settleTimer = undefined
                this.#settleWake = undefined
                resolve(!this.#closed)
            }
            this.#settleWake = wake
            this.#settleTimer = setTimeout(wake, ms)
            if (!this.#o.persistent) this.#settleTimer.unref()
        })
    }

    #apply(entries: ReadonlyMap<string, string>): void {
        this.#entries = entries
        const before = this.#snapshot
        const next = this.#build(entries, before.generation + 1)
        const names = changedNames(before, next)
        if (names.length === 0) return
        this.#snapshot = next
        this.#lastChangeMs = Date.now()
        this.emit('change', { names, generation: next.generation, deployed: this.#deployed })
        if (this.#checker && this.#started && (this.#o.check?.onChange === true || this.#checkAwaitsKeys) && next.values.size > 0) {
            this.#checkAwaitsKeys = false
            this.#checker.request()
        }
    }

    // A key its provider rejected sits out of its pool until it is rotated (a
    // cool-down is dropped when the value changes), if it is still the value served.
    #rejected(name: string, value: string): void {
        const choice = this.#snapshot.lookup.get(name)
        if (choice === undefined || choice instanceof Pool || choice.value !== value) return
        this.reportFailure(choice, { cooldownMs: Infinity })
    }

    #healthy(): void {
        this.#problem = undefined
        this.#reported = undefined
        this.#failStreak = 0
        clearTimeout(this.#retryTimer)
        this.#retryTimer = undefined
    }

    // A problem is reported only if it is still there after settleMs (an editor's
    // truncate-then-write is not worth an event); meanwhile the store retries on a timer.
    #fail(error: KeyfleetError): void {
        this.#problem = error
        this.#failStreak++
        if (this.#failStreak > 1 || this.#o.settleMs === 0) {
            const key = `${error.code}\0${error.message}`
            if (key !== this.#reported) {
                this.#reported = key
                this.emit('error', error)
            }
        }
        clearTimeout(this.#retryTimer)
        const delay = this.#failStreak === 1 && this.#o.settleMs > 0 ? this.#o.settleMs : this.#o.pollIntervalMs
        this.#retryTimer = setTimeout(() => { this.#retryTimer = undefined; void this.#reload() }, delay).unref()
    }

    #syncWatches(): boolean {
        if (!this.#watchers || this.#watchers.failed || this.#closed) return false
        try {
            return this.#watchers.sync(watchTargets(this.#o.path as string))
        } catch {
            // A path component vanished mid-check: the retry timer or the next event re-syncs.
            return false
        }
    }

    #fallback(reason: string): void {
        if (this.#closed) return
        this.#mode = 'poll'
        // A failed re-watch attempt: still polling, already announced.
        if (!this.#polling.fallback()) return
        const error = loaderError(LoaderCode.POLLING_FALLBACK, `cannot watch ${this.#o.path as string} (${reason}: inotify watches or instances exhausted?); polling every ${this.#o.pollIntervalMs} ms instead. Raise fs.inotify.max_user_watches / max_user_instances to restore instant reloads`, { file: this.#o.path })
        this.emit('fallback', { reason, intervalMs: this.#o.pollIntervalMs, error })
    }
}
