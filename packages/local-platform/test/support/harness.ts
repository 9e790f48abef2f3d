/**
 * A real profile service on a loopback port (in-memory store) and a
 * `ProfileClient` from @rtcp/core pointed at it, authenticating through the
 * service's own IMS endpoint: the core's calls are the client, so contract
 * drift fails a test.
 */
import { HttpApiBuilder, HttpClient } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { AccessToken, Platform, ProfileClient } from "@rtcp/core"
import { Catalog, Ingestion, ProfileStore } from "@rtcp/profile-store"
import { Effect, Layer, Redacted } from "effect"
import { demoClient } from "../../src/ImsTokens.js"
import * as Server from "../../src/Server.js"

export const orgId = demoClient.orgId

/**
 * The database of the tests: SQLite unless `RTCP_TEST_DIALECT=postgres` (the
 * `postgres` vitest project), then a scratch schema per service on the
 * server at `RTCP_TEST_DATABASE_URL`, dropped with the service.
 */
export const dialect: "sqlite" | "postgres" = process.env.RTCP_TEST_DIALECT === "postgres" ? "postgres" : "sqlite"
const databaseUrl = process.env.RTCP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

/** `Server.layer` on the test database. */
export const serverLayer = (options: Partial<Server.ServiceOptions> = {}) =>
  dialect === "sqlite"
    ? Server.layer({ directory: ":memory:", ...options })
    : Layer.unwrapScoped(
        Effect.map(Effect.orDie(ProfileStore.scratchSchema(databaseUrl)), (schema) =>
          Server.layer({ directory: ":memory:", database: databaseUrl, databaseSchema: schema, ...options })
        )
      )

/** The service (store services included) plus an HttpClient aimed at it. */
export const service = (options: Partial<Server.ServiceOptions> = {}) =>
  HttpApiBuilder.serve().pipe(
    Layer.provideMerge(serverLayer(options)),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )

/** A ProfileClient for the service (its HttpClient already prefixes the server URL). */
export const client = (sandbox = "prod") =>
  ProfileClient.layer.pipe(
    Layer.provideMerge(
      AccessToken.layerOAuth({ clientId: demoClient.clientId, clientSecret: demoClient.clientSecret, imsUrl: "" })
    ),
    Layer.provideMerge(Platform.layer({ platformUrl: "", imsUrl: "", orgId, apiKey: demoClient.clientId, sandbox }))
  )

/** Service and client in one layer. */
export const layer = (options: Partial<Server.ServiceOptions> = {}) => client().pipe(Layer.provideMerge(service(options)))

/** Creates a profile-enabled dataset and ingests `records` into it as one batch. */
export const ingest = (
  spec: { readonly name: string; readonly xdmClass: "profile" | "experienceevent"; readonly upsert?: boolean; readonly sandbox?: string },
  records: ReadonlyArray<unknown>
) =>
  Effect.gen(function* () {
    const catalog = yield* Catalog.Catalog
    const ingestion = yield* Ingestion.Ingestion
    const sandbox = spec.sandbox ?? "prod"
    const dataset = yield* catalog.create(sandbox, {
      name: spec.name,
      schemaRef: {
        id:
          spec.xdmClass === "profile"
            ? "https://ns.adobe.com/xdm/context/profile"
            : "https://ns.adobe.com/xdm/context/experienceevent"
      },
      tags: { unifiedProfile: spec.upsert ? ["enabled:true", "isUpsert:true"] : ["enabled:true"] }
    })
    const batch = yield* ingestion.ingestRecords(sandbox, dataset.id, records)
    return { dataset, batch }
  })

/** Raw HTTP access for what the core client does not speak (Catalog, ingestion, bad input). */
export const http = Effect.map(HttpClient.HttpClient, (client) => client)

/** Headers of an authenticated raw request. */
export const authHeaders = (sandbox = "prod") =>
  Effect.gen(function* () {
    const token = yield* AccessToken.AccessToken
    return {
      authorization: `Bearer ${Redacted.value(yield* token.get)}`,
      "x-api-key": demoClient.clientId,
      "x-gw-ims-org-id": orgId,
      "x-sandbox-name": sandbox
    }
  })
