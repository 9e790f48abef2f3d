/** The sizes each benchmark runs at: the default run finishes in under 10 minutes here, `--size 1m` is the full sizes. */
import type { Context } from "./benchmark.js"

export const sizes = (context: Context) =>
  context.size === "smoke"
    ? {
        ingest: [3_000],
        lookupStore: 3_000,
        growth: [1_000, 3_000],
        coreStore: 3_000,
        jobs: 3_000,
        postgresStore: 3_000,
        loadSeconds: 2
      }
    : context.size === "1m"
    ? {
        ingest: [100_000, 1_000_000],
        lookupStore: 1_000_000,
        growth: [10_000, 31_623, 100_000, 316_228, 1_000_000],
        coreStore: 100_000,
        jobs: 100_000,
        postgresStore: 100_000,
        loadSeconds: 15
      }
    : {
        ingest: [100_000],
        lookupStore: 100_000,
        growth: [10_000, 31_623, 100_000],
        coreStore: 100_000,
        jobs: 100_000,
        postgresStore: 20_000,
        loadSeconds: 6
      }

/** `--cpu-prof` flags for a measured process: profiles land in `bench/tmp/profiles/<name>/` (the main thread's is the largest file). */
export const cpuProfileArgs = (context: Context, name: string) =>
  context.cpuProfile ? [`--cpu-prof`, `--cpu-prof-dir=${context.cacheDir}/profiles/${name}`] : []
