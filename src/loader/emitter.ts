/**
 * A minimal typed event emitter. Unlike node:events it never throws when an
 * `error` event has no listener: an agent that did not subscribe must keep
 * serving its last good keys, not crash because the mount went bad.
 */

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void

/** Typed listeners keyed by event name. */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
    readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>()

    /**
     * Adds `listener` for `event`.
     * @returns a function that removes it again.
     */
    on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): Unsubscribe {
        let set = this.#listeners.get(event)
        if (!set) this.#listeners.set(event, set = new Set())
        set.add(listener)
        return () => { set.delete(listener) }
    }

    /** Removes `listener` from `event`; a no-op when it was not added. */
    off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void {
        this.#listeners.get(event)?.delete(listener)
    }

    /** Number of listeners for `event`. */
    listenerCount(event: keyof Events): number {
        return this.#listeners.get(event)?.size ?? 0
    }

    /**
     * Calls every listener of `event`. A listener that throws does not stop the
     * others or the loader; its error is rethrown on a later tick so it still
     * surfaces as an uncaught exception, as with any callback.
     */
    protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
        const set = this.#listeners.get(event)
        if (!set) return
        for (const listener of [...set]) {
            try {
                (listener as (payload: Events[K]) => void)(payload)
            } catch (error) {
                queueMicrotask(() => { throw error })
            }
        }
    }

    /** Drops every listener (used by close). */
    protected removeAll(): void {
        this.#listeners.clear()
    }
}
