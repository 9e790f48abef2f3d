/**
 * The store on PostgreSQL next to SQLite, in the same run: ingestion of the
 * demo datasets through the store's ingestion (records per second), then
 * GET profile at 32 connections on one service over SQLite, one over
 * Postgres, and two processes over the same Postgres database and data
 * folder (one load generator splits its connections evenly across the two
 * ports, as a round-robin TCP balancer in front would: a connection stays on
 * the process it was given). Needs a server at RTCP_BENCH_DATABASE_URL (default:
 * RTCP_TEST_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/test);
 * each run works in a scratch schema it drops.
 */
import { ProfileStore } from "@rtcp/profile-store"
import { loadavg } from "node:os"
import { Effect } from "effect"
import { type Benchmark } from "../lib/benchmark.js"
import { barChart } from "../lib/chart.js"
import { runWorker } from "../lib/child.js"
import { load, type LoadResult } from "../lib/load.js"
import { lookupIdentities } from "../lib/seed.js"
import { platformHeaders, profilePath, startService } from "../lib/service.js"
import { sizes } from "../lib/sizes.js"
import { best, fmt } from "../lib/stats.js"
import { removeDir, scratchDir } from "../lib/store.js"
import type { IngestArgs, IngestResult } from "../workers/ingest.js"

const CONNECTIONS = 32
const databaseUrl =
  process.env.RTCP_BENCH_DATABASE_URL ?? process.env.RTCP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const inSchema = (schema: string) => {
  const url = new URL(databaseUrl)
  url.searchParams.set("options", `-c search_path=${schema}`)
  return url.toString()
}

const brief = (r: LoadResult) => ({
  requestsPerSecond: Math.round(r.requestsPerSecond),
  p50Ms: Number(r.latencyMs.p50.toFixed(2)),
  p99Ms: Number(r.latencyMs.p99.toFixed(2)),
  errors: r.errors + r.timeouts,
  non2xx: r.non2xx
})

const benchmark: Benchmark = {
  name: "postgres",
  title: "The store on PostgreSQL next to SQLite: ingestion, lookups, two processes on one database",
  order: 25,
  run: async (context) => {
    const { loadSeconds, postgresStore: profiles } = sizes(context)
    const identities = lookupIdentities(profiles, 5000)
    const paths = identities.map(profilePath)
    const ingest: Record<"sqlite" | "postgres", Array<IngestResult>> = { sqlite: [], postgres: [] }
    const lookups: Record<"sqlite" | "postgres" | "postgres2", Array<LoadResult>> = { sqlite: [], postgres: [], postgres2: [] }

    for (let run = 1; run <= context.runs; run++) {
      const dir = scratchDir(context, "pg-sqlite")
      const filesDir = scratchDir(context, "pg-files")
      const schema = `rtcp_bench_${process.pid}_${run}_${Date.now().toString(36)}`
      await Effect.runPromise(ProfileStore.ensureSchema(databaseUrl, schema))
      const database = inSchema(schema)
      try {
        context.log(`run ${run}/${context.runs}: ingest ${fmt(profiles)} profiles into SQLite, then into Postgres`)
        for (const [key, args] of [
          ["sqlite", { mode: "service", profiles, dir }],
          ["postgres", { mode: "service", profiles, dir: filesDir, database }]
        ] as const) {
          const result = await runWorker<IngestResult>("ingest", args satisfies IngestArgs, { timeoutMs: 60 * 60_000, log: context.log })
          ingest[key].push(result)
          context.log(`  ${key}: ${fmt(result.records)} records in ${fmt(result.wallMs / 1000)} s, ${fmt(result.recordsPerSecond)} records/s`)
        }

        const measure = async (
          key: keyof typeof lookups,
          servers: ReadonlyArray<{ readonly dir: string; readonly database?: string; readonly lookupCacheMb?: number }>
        ) => {
          // One after the other: two workers picking a free port at once may pick the same one.
          const running: Array<Awaited<ReturnType<typeof startService>>> = []
          try {
            for (const args of servers) running.push(await startService(context, args))
            // Processes on one data folder share its IMS signing key: one token serves on all of them.
            const headers = platformHeaders(running[0]!.info.token)
            for (const server of running) {
              const response = await fetch(`${server.info.url}${paths[0]}`, { headers })
              if (!response.ok) throw new Error(`GET ${paths[0]} answered ${response.status}: ${await response.text()}`)
            }
            const [first, ...others] = running.map((server) => server.info.url)
            const result = await load({ url: first!, also: others, connections: CONNECTIONS, seconds: loadSeconds, headers, paths })
            lookups[key].push(result)
            const loadAverage = loadavg().map((n) => n.toFixed(1)).join(" ")
            context.log(
              `  GET profile, ${key}: ${fmt(result.requestsPerSecond)} req/s, p50 ${fmt(result.latencyMs.p50)} ms, p99 ${fmt(result.latencyMs.p99)} ms (load ${loadAverage})`
            )
          } finally {
            await Promise.all(running.map((server) => server.stop()))
          }
        }
        // Every lookup read from the store, as on Postgres (which keeps no answers): the databases, not the cache, side by side.
        await measure("sqlite", [{ dir, lookupCacheMb: 0 }])
        await measure("postgres", [{ dir: filesDir, database }])
        await measure("postgres2", [
          { dir: filesDir, database },
          { dir: filesDir, database }
        ])
      } finally {
        removeDir(dir)
        removeDir(filesDir)
        await Effect.runPromise(ProfileStore.dropSchema(databaseUrl, schema))
      }
    }

    const ingestBest = {
      sqlite: best(ingest.sqlite, (r) => r.recordsPerSecond, true),
      postgres: best(ingest.postgres, (r) => r.recordsPerSecond, true)
    }
    const lookupBest = {
      sqlite: best(lookups.sqlite, (r) => r.requestsPerSecond, true),
      postgres: best(lookups.postgres, (r) => r.requestsPerSecond, true),
      postgres2: best(lookups.postgres2, (r) => r.requestsPerSecond, true)
    }
    const labels = { sqlite: "SQLite, one process (--lookup-cache-mb 0)", postgres: "Postgres, one process", postgres2: "Postgres, two processes" }
    return {
      figures: {
        storeProfiles: profiles,
        connections: CONNECTIONS,
        ingest: Object.fromEntries(
          Object.entries(ingestBest).map(([key, r]) => [
            key,
            { records: r.records, seconds: Number((r.wallMs / 1000).toFixed(2)), recordsPerSecond: Math.round(r.recordsPerSecond), maxRssMb: Math.round(r.maxRssMb) }
          ])
        ),
        getProfile: Object.fromEntries(Object.entries(lookupBest).map(([key, r]) => [key, brief(r)]))
      },
      targets: [],
      summary: [
        `ingestion of ${fmt(profiles)} profiles' records: SQLite ${fmt(ingestBest.sqlite.recordsPerSecond)} records/s, Postgres ${fmt(ingestBest.postgres.recordsPerSecond)} records/s`,
        ...Object.entries(lookupBest).map(
          ([key, r]) =>
            `GET profile at ${CONNECTIONS} connections, ${labels[key as keyof typeof labels]}: ${fmt(r.requestsPerSecond)} req/s, p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms`
        )
      ],
      plots: [
        {
          file: "postgres.svg",
          svg: barChart({
            title: "GET profile throughput: SQLite vs Postgres (higher is better)",
            subtitle: `store of ${fmt(profiles)} profiles, ${CONNECTIONS} connections; best of ${context.runs} runs`,
            unit: "req/s",
            groups: Object.entries(lookupBest).map(([key, r]) => ({
              label: labels[key as keyof typeof labels],
              bars: [{ label: "req/s", value: r.requestsPerSecond }]
            }))
          })
        }
      ]
    }
  }
}

export default benchmark
