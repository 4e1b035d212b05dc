/**
 * Setting a process's signal listeners aside for a while without losing a signal.
 *
 * Node stops its handler for a signal when the signal's last listener is removed, and a signal
 * the handler had caught but not yet dispatched to JS goes with it (a kill that came while the
 * main thread was busy). So the new listener is added before the old ones are removed, and the
 * old ones are put back before it is removed: there is never a moment with no listener.
 */

/**
 * Replaces every listener of `signals` with `handler` until the returned function is called,
 * which puts the saved listeners back in their order. Never drops a pending signal.
 */
export const divertSignals = (signals: readonly NodeJS.Signals[], handler: (signal: NodeJS.Signals) => void): (() => void) => {
    const saved = signals.map((signal) => [signal, process.listeners(signal)] as const)
    for (const [signal, listeners] of saved) {
        process.on(signal, handler)
        for (const listener of listeners) process.removeListener(signal, listener)
    }
    let restored = false
    return () => {
        if (restored) return
        restored = true
        for (const [signal, listeners] of saved) {
            for (const listener of listeners) process.on(signal, listener)
            process.removeListener(signal, handler)
        }
    }
}
