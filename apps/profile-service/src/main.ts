/**
 * `npm run service -- --port 8080 --data .rtcp/data --seed demo`
 */
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Duration, Effect, Layer, Option } from "effect"
import { demoCustomer } from "@rtcp/seed"
import { Faults, ImsTokens, seedDemo, Server } from "@rtcp/local-platform"
import { JobLeases, ProfileStore } from "@rtcp/profile-store"

const port = Options.integer("port").pipe(
  Options.withDefault(8080),
  Options.withDescription("Port to listen on (0 picks a free one)")
)
const host = Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("Address to bind"))
const data = Options.text("data").pipe(
  Options.withDefault(".rtcp/data"),
  Options.withDescription('Data folder (SQLite database, IMS signing key); ":memory:" for a throw-away store')
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
  Options.withDescription("demo: create the demo retail datasets and ingest them once (tools/seed)")
)
const seedProfiles = Options.integer("seed-profiles").pipe(
  Options.withDefault(1000),
  Options.withDescription("How many customers --seed demo generates")
)
const tokenTtl = Options.integer("token-ttl").pipe(
  Options.withDefault(86_400),
  Options.withDescription("Lifetime in seconds of the access tokens /ims/token/v3 issues")
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
  Options.withDescription("Serve /rtcp/admin/faults (GET, PUT, DELETE) to change faults at run time; off by default")
)

const command = Command.make(
  "profile-service",
  { port, host, data, database, jobLease, seed, seedProfiles, tokenTtl, fault, faultLatency, faultSeed, admin },
  (options) =>
    Layer.launch(
      Server.serve(
        {
          port: options.port,
          host: options.host,
          directory: options.data,
          database: Option.getOrUndefined(options.database),
          tokenTtlSeconds: options.tokenTtl,
          admin: options.admin,
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
        Layer.provide(
          Layer.succeed(JobLeases.Settings, { ...JobLeases.Settings.defaultValue(), lease: Duration.seconds(Math.max(1, options.jobLease)) })
        )
      )
    )
).pipe(Command.withDescription("A local Real-Time Customer Profile API on embedded SQLite, or on PostgreSQL with --database"))

Command.run(command, { name: "profile-service", version: "0.1.0" })(process.argv).pipe(
  // @effect/cli has already printed what is wrong with the flags; exit 2 without a second, raw copy.
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => void (process.exitCode = 2))),
  // Another service has the SQLite data folder: one line that says what to do, not a stack.
  Effect.catchTag("DataFolderInUse", (error) =>
    Effect.zipRight(Console.error(error.message), Effect.sync(() => void (process.exitCode = 1)))
  ),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
