/** One measured row of `npm run bench`. */
export interface BenchRow {
    /** Area, e.g. `native-decrypt`, `loader`, `render`. */
    readonly suite: string
    /** What was measured, e.g. `native decrypt 50 keys`. */
    readonly name: string
    /** The measured number. */
    readonly value: number
    /** Unit of `value`, e.g. `ms`, `ns/op`, `MB`. */
    readonly unit: string
    /** Same-run baseline, when the row is compared to one. */
    readonly baseline?: { readonly name: string; readonly value: number }
    /** Ratio baseline/value (higher is better for time) or as stated in `note`. */
    readonly ratio?: number
    /** The goal, in words, e.g. `>= 20x faster than sops`. */
    readonly goal?: string
    /** Whether the goal was met in this run. */
    readonly met?: boolean
    readonly note?: string
    /** Whole-process rows (cold start): min/median/max wall time in ms over the runs. */
    readonly runs?: { readonly count: number; readonly min: number; readonly median: number; readonly max: number }
    /** Whole-process rows: median peak resident set size (MiB), when /usr/bin/time can report it. */
    readonly peakRssMiB?: number
    /** Whole-process rows: median CPU time (user + system, ms), when /usr/bin/time can report it. */
    readonly cpuMs?: number
}

/** A bench module: `bench/<suite>.ts` exports `run`. */
export type BenchSuite = (progress: (message: string) => void) => Promise<BenchRow[]>
