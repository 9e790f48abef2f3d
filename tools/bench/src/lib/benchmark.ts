/**
 * What a benchmark module is: one file in `src/benchmarks/` whose default
 * export is a {@link Benchmark}. `main.ts` finds the files itself, so adding
 * a benchmark (the proxy's, say) is adding one file.
 */

/** `smoke` checks the harness in seconds (its figures mean nothing). */
export type Size = "default" | "1m" | "smoke"

export interface Context {
  /** `default` finishes in under 10 minutes here; `1m` runs the full sizes of the issue. */
  readonly size: Size
  /** Measurements per figure; the best is reported (the machine is shared and noisy). */
  readonly runs: number
  /** The repository root. */
  readonly root: string
  /** Seeded stores and scratch data, reused across runs (`bench/tmp`, ignored by git). */
  readonly cacheDir: string
  /** Rebuild cached stores instead of reusing them. */
  readonly fresh: boolean
  /** Write CPU profiles of the measured service processes to `bench/tmp/profiles`. */
  readonly cpuProfile: boolean
  /** SQLite page cache of the ingesting connections in MiB (`--sqlite-cache-mb`); SQLite's default (2 MiB) when undefined. */
  readonly sqliteCacheMb: number | undefined
  /**
   * Only these parts of a benchmark (`--only`, e.g. `cached,storm` for the
   * proxy's); undefined: all. A benchmark without parts ignores it.
   */
  readonly only?: ReadonlyArray<string> | undefined
  readonly log: (message: string) => void
}

/** A figure judged against a target: `value` compared with `limit` by `op`. */
export interface Target {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly op: "<=" | ">="
  readonly limit: number
  readonly met: boolean
  /** Why it is missed and what would close it, when known. */
  readonly note?: string | undefined
}

export interface Plot {
  /** File name in `bench/plots/`. */
  readonly file: string
  readonly svg: string
}

export interface Report {
  /** Everything measured: written as is to `bench/results/<name>.json`. */
  readonly figures: Record<string, unknown>
  readonly targets: ReadonlyArray<Target>
  readonly plots: ReadonlyArray<Plot>
  /** Lines printed under the benchmark's heading. */
  readonly summary: ReadonlyArray<string>
}

export interface Benchmark {
  /** What `npm run bench -- <name>` selects. */
  readonly name: string
  readonly title: string
  /** Position in a full run (small first). */
  readonly order: number
  readonly run: (context: Context) => Promise<Report>
}

export const target = (
  name: string,
  value: number,
  unit: string,
  op: "<=" | ">=",
  limit: number,
  note?: string
): Target => ({ name, value, unit, op, limit, met: op === "<=" ? value <= limit : value >= limit, note })
