/**
 * `npm run service -- --port 8080 --data .rtcp/data --seed demo`
 *
 * Mistakes (a bad flag, a busy port, a file where the data folder should be)
 * are one line on stderr and exit code 2 (see @rtcp/command-line); the flags
 * and the port are checked before any data is seeded.
 */
import { Command, HelpDoc, Options } from "@effect/cli"
import { CommandLine } from "@rtcp/command-line"
import { Cause, Config, Console, Duration, Effect, Layer, Option, Predicate } from "effect"
import { demoCustomer } from "@rtcp/seed"
import { Faults, ImsTokens, LocalProfileApi, LookupCache, seedDemo, Server, Workers } from "@rtcp/local-platform"
import cluster from "node:cluster"
import { JobLeases, ProfileStore } from "@rtcp/profile-store"

const port = CommandLine.port("port", { default: 8080, description: "Port to listen on; 0 picks a free one" })
const host = Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("Address to bind (default 127.0.0.1)"))
const data = Options.text("data").pipe(
  Options.withDefault(".rtcp/data"),
  Options.withDescription('Data folder (SQLite database, IMS signing key), created if missing; ":memory:" for a throw-away store (default .rtcp/data)')
)
const database = Options.text("database").pipe(
  Options.withFallbackConfig(Config.string("DATABASE_URL")),
  Options.optional,
  Options.mapTryCatch(
    (url) =>
      Option.map(url, (text) => {
        if (!ProfileStore.isPostgresUrl(text)) {
          throw new Error(`--database "${text}" is not a PostgreSQL URL: use postgres://user:password@host:5432/database`)
        }
        return text
      }),
    (error) => HelpDoc.p(error instanceof Error ? error.message : String(error))
  ),
  Options.withDescription(
    "PostgreSQL URL (postgres://user:password@host:5432/database; default: $DATABASE_URL) of the store, " +
      "so several services can share it; without it the store is SQLite in the data folder"
  )
)
const jobLease = Options.integer("job-lease").pipe(
  Options.withDefault(30),
  Options.withDescription(
    "Seconds a background job stays claimed by a service that stopped renewing its claim (it died): " +
      "then another service on the same --database takes the job over"
  )
)
const seed = Options.choice("seed", ["demo", "none"]).pipe(
  Options.withDefault("none" as const),
  Options.withDescription("demo: create the demo retail datasets and ingest them once (default none)")
)
const seedProfiles = Options.integer("seed-profiles").pipe(
  Options.withDefault(1000),
  Options.withDescription("How many customers --seed demo generates (default 1000)")
)
const tokenTtl = Options.integer("token-ttl").pipe(
  Options.withDefault(86_400),
  Options.withDescription("Lifetime in seconds of the access tokens /ims/token/v3 issues (default 86400)")
)
const fault = Options.text("fault").pipe(
  Options.repeated,
  Options.mapTryCatch(
    (rules) => rules.map(Faults.parseRule),
    (error) => HelpDoc.p(error instanceof Error ? error.message : String(error))
  ),
  Options.withDescription(
    "Fault rule, repeatable: '[METHOD] PATH ACTION [times=N] [p=0.5] [retry-after=2] [delay=200ms] [chunk=16] [every=100ms]' " +
      "with ACTION one of 429, 500, 502, 503, drop, latency, slow, expire-tokens " +
      "(e.g. 'GET /data/core/ups/access/entities 429 retry-after=2 times=3'; see the README)"
  )
)
const faultLatency = Options.text("fault-latency").pipe(
  Options.mapTryCatch(
    (text) => {
      const ms = Faults.parseDuration(text)
      if (ms === undefined) throw new Error(`--fault-latency "${text}" is not a duration such as 50ms or 1s`)
      return ms
    },
    (error) => HelpDoc.p(error instanceof Error ? error.message : String(error))
  ),
  Options.optional,
  Options.withDescription("Latency added to every request (50ms, 1s; a bare number is milliseconds)")
)
const faultSeed = Options.integer("fault-seed").pipe(
  Options.optional,
  Options.withDescription("Seed of the fault dice: the same seed repeats the same faults for p=… rules")
)
const admin = Options.boolean("admin").pipe(
  Options.withDescription(
    "Serve the admin endpoints (default off): /rtcp/admin/faults (change faults at run time), " +
      "/rtcp/admin/requests (the request inspector), /rtcp/admin/reset, /rtcp/admin/snapshots/export and /import"
  )
)
const importFrom = Options.directory("import", { exists: "yes" }).pipe(
  Options.optional,
  Options.withDescription("Start from the snapshot in this folder (written by --export-on-exit or /rtcp/admin/snapshots/export); replaces the data folder's state")
)
const exportOnExit = Options.text("export-on-exit").pipe(
  Options.optional,
  Options.withDescription("On SIGINT or SIGTERM, export the whole state to this folder (a snapshot --import reads)")
)
const MAX_WORKERS = 64
const workers = Options.integer("workers").pipe(
  Options.optional,
  Options.mapTryCatch(
    (count) =>
      Option.map(count, (n) => {
        if (n < 1 || n > MAX_WORKERS) throw new Error(`--workers ${n} is not a number of processes: use a whole number from 1 to ${MAX_WORKERS}`)
        return n
      }),
    (error) => HelpDoc.p(error instanceof Error ? error.message : String(error))
  ),
  Options.withDescription(
    "Processes that accept requests (default: one per core but one, and 1 on 2 cores or fewer; always 1 with --data :memory:, --admin or --fault*). " +
      "With more than 1, one process writes and runs the jobs; the others answer lookups from the same store and pass the rest on"
  )
)
const lookupCache = Options.integer("lookup-cache-mb").pipe(
  Options.withDefault(LookupCache.DEFAULT_MAX_MB),
  Options.mapTryCatch(
    (mb) => {
      if (mb < 0) throw new Error(`--lookup-cache-mb ${mb} is not a size: use 0 (no cache) or a whole number of MiB`)
      return mb
    },
    (error) => HelpDoc.p(error instanceof Error ? error.message : String(error))
  ),
  Options.withDescription(
    `MiB of profile and event lookup answers kept between writes, on SQLite (default ${LookupCache.DEFAULT_MAX_MB}; 0 for none). ` +
      "Any write makes every kept answer stale, so a read after a write always sees it"
  )
)
const inspectorSize = Options.integer("inspector-size").pipe(
  Options.withDefault(500),
  Options.withDescription("How many requests the request inspector keeps, with --admin (default 500)")
)

/** Failures whose message already says what to do: another service holds the data folder, a snapshot that cannot be imported. */
const SAID_IN_ONE_LINE = ["DataFolderInUse", "SnapshotError"] as const

const command = Command.make(
  "rtcp-service",
  { port, host, data, database, jobLease, seed, seedProfiles, tokenTtl, fault, faultLatency, faultSeed, admin, importFrom, exportOnExit, inspectorSize, workers, lookupCache },
  (options) =>
    Effect.gen(function* () {
      // Before seeding, which takes seconds: a folder that cannot be one, a port already taken.
      yield* CommandLine.orUsageError(LocalProfileApi.checkDataFolder(options.data, "--data"))
      yield* CommandLine.ensurePortFree(options.port, options.host)
      const faultsOn = options.fault.length > 0 || Option.isSome(options.faultLatency) || Option.isSome(options.faultSeed)
      const processes = Workers.count({
        requested: Option.getOrUndefined(options.workers),
        directory: options.data,
        admin: options.admin,
        faults: faultsOn
      })
      // With readers, this process is the writer: on loopback, behind them.
      const readers =
        processes > 1
          ? Workers.layerReaders({
              workers: processes,
              port: options.port,
              host: options.host,
              directory: options.data,
              database: Option.getOrUndefined(options.database),
              tokenTtlSeconds: options.tokenTtl,
              lookupCacheMb: options.lookupCache
            })
          : Layer.empty
      return yield* Layer.launch(
        Server.serve(
          {
            port: processes > 1 ? 0 : options.port,
            host: processes > 1 ? "127.0.0.1" : options.host,
            logAddress: processes === 1,
            directory: options.data,
            database: Option.getOrUndefined(options.database),
            tokenTtlSeconds: options.tokenTtl,
            admin: options.admin,
            inspector: { size: options.inspectorSize },
            lookupCacheMb: options.lookupCache,
            importFrom: Option.getOrUndefined(options.importFrom),
            exportOnExit: Option.getOrUndefined(options.exportOnExit),
            faults:
              options.fault.length === 0 && Option.isNone(options.faultLatency) && Option.isNone(options.faultSeed)
                ? undefined
                : {
                    rules: options.fault,
                    latency: Option.getOrUndefined(options.faultLatency),
                    seed: Option.getOrUndefined(options.faultSeed)
                  }
          },
          options.seed === "demo"
            ? seedDemo({ sandbox: "prod", profiles: options.seedProfiles }).pipe(
                Effect.zipRight(
                  Console.log(
                    `demo data ready in sandbox prod: look up ${demoCustomer.email} (Email); ` +
                      `OAuth client ${ImsTokens.demoClient.clientId}, org ${ImsTokens.demoClient.orgId}`
                  )
                )
              )
            : Effect.void
        ).pipe(
          (writer) => Layer.merge(writer, Layer.provide(readers, writer)),
          Layer.provide(
            Layer.succeed(JobLeases.Settings, { ...JobLeases.Settings.defaultValue(), lease: Duration.seconds(Math.max(1, options.jobLease)) })
          )
        )
      ).pipe(
        // Node's listen errors (the port taken meanwhile, an address that is not local) as one line.
        Effect.catchAllCause((cause): Effect.Effect<never, unknown> => {
          if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
          const failure = Cause.failureOption(cause)
          if (
            Option.isSome(failure) &&
            SAID_IN_ONE_LINE.some((tag) => Predicate.isTagged(failure.value, tag)) &&
            Predicate.hasProperty(failure.value, "message")
          ) {
            return Effect.fail(new CommandLine.UsageError({ message: String(failure.value.message) }))
          }
          const explained = LocalProfileApi.explainStartFailure(cause, { port: options.port, host: options.host, data: options.data })
          return explained.reason === "Unknown" ? Effect.failCause(cause) : Effect.fail(new CommandLine.UsageError({ message: explained.message }))
        })
      )
    })
).pipe(Command.withDescription("A local Real-Time Customer Profile API on embedded SQLite, or on PostgreSQL with --database"))

if (cluster.isWorker) void Workers.runReader()
else CommandLine.main(command, { name: "rtcp-service", version: "0.1.0" })
