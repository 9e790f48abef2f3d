/**
 * `npm run service -- --port 8080 --data .rtcp/data --seed demo`
 */
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { demoCustomer } from "@rtcp/seed"
import { demoClient } from "./ImsTokens.js"
import { seedDemo } from "./Seed.js"
import * as Server from "./Server.js"

const port = Options.integer("port").pipe(
  Options.withDefault(8080),
  Options.withDescription("Port to listen on (0 picks a free one)")
)
const host = Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("Address to bind"))
const data = Options.text("data").pipe(
  Options.withDefault(".rtcp/data"),
  Options.withDescription('Data folder (SQLite database, IMS signing key); ":memory:" for a throw-away store')
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

const command = Command.make(
  "profile-service",
  { port, host, data, seed, seedProfiles, tokenTtl },
  (options) =>
    Layer.launch(
      Server.serve(
        { port: options.port, host: options.host, directory: options.data, tokenTtlSeconds: options.tokenTtl },
        options.seed === "demo"
          ? seedDemo({ sandbox: "prod", profiles: options.seedProfiles }).pipe(
              Effect.zipRight(
                Console.log(
                  `demo data ready in sandbox prod: look up ${demoCustomer.email} (Email); ` +
                    `OAuth client ${demoClient.clientId}, org ${demoClient.orgId}`
                )
              )
            )
          : Effect.void
      )
    )
).pipe(Command.withDescription("A local Real-Time Customer Profile API on embedded SQLite"))

Command.run(command, { name: "profile-service", version: "0.1.0" })(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
