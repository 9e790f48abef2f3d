/**
 * The local profile service: the core's contract served from the profile
 * store, plus the Platform surfaces that feed it.
 *
 * @since 0.1.0
 */
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { ProfileApi } from "@rtcp/core"
import { ProfileStore } from "@rtcp/profile-store"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { join } from "node:path"
import * as Faults from "./Faults.js"
import * as Gateway from "./Gateway.js"
import { AdminLive } from "./http/admin.js"
import { ComputedAttributesLive } from "./http/computedAttributes.js"
import { DestinationsLive } from "./http/destinations.js"
import { EntitiesLive } from "./http/entities.js"
import { ErrorsLive } from "./http/errors.js"
import { ExportJobsLive } from "./http/exportJobs.js"
import { ImsLive } from "./http/ims.js"
import { MergePoliciesLive } from "./http/mergePolicies.js"
import { PlatformRoutesLive } from "./http/platform.js"
import { PreviewSampleStatusLive } from "./http/previewSampleStatus.js"
import { ProjectionsLive } from "./http/projections.js"
import { SystemJobsLive } from "./http/systemJobs.js"
import * as ImsTokens from "./ImsTokens.js"

export interface ServiceOptions {
  /** Data folder, or ":memory:" for a store that lives as long as the process. */
  readonly directory: string
  /**
   * A `postgres://` URL: the store lives in that database (several services
   * may share it) instead of the folder's SQLite file. The folder still holds
   * export files and the IMS signing key.
   */
  readonly database?: string | undefined
  /** The Postgres schema of the store's tables (default: the connection's `search_path`). */
  readonly databaseSchema?: string | undefined
  readonly clients?: ReadonlyArray<ImsTokens.ImsClient> | undefined
  readonly tokenTtlSeconds?: number | undefined
  /** Fault injection (see Faults.ts); off when undefined, unless `admin` turns it on with no rule. */
  readonly faults?: Faults.FaultOptions | undefined
  /** Serves `/rtcp/admin/faults`. Never on by default. */
  readonly admin?: boolean | undefined
}

const ApiLive = HttpApiBuilder.api(ProfileApi.ProfileApi).pipe(
  Layer.provide([
    EntitiesLive,
    MergePoliciesLive,
    ComputedAttributesLive,
    ExportJobsLive,
    PreviewSampleStatusLive,
    SystemJobsLive,
    ProjectionsLive,
    DestinationsLive,
    ImsLive
  ])
)

/** The fault middleware when faults or the admin endpoint are asked for; the admin routes only with `admin`. */
const FaultsLive = (options: ServiceOptions) =>
  options.faults === undefined && options.admin !== true
    ? Layer.empty
    : Layer.mergeAll(Faults.layerApiMiddleware, options.admin === true ? AdminLive : Layer.empty)

/** Everything but the HTTP server itself: what tests serve with `NodeHttpServer.layerTest`. */
export const layer = (options: ServiceOptions) =>
  Layer.mergeAll(ApiLive, PlatformRoutesLive, ErrorsLive, FaultsLive(options)).pipe(
    Layer.provide(Gateway.layer),
    Layer.provideMerge(Faults.layer(options.faults)),
    Layer.provideMerge(
      ImsTokens.layer({
        clients: options.clients ?? [ImsTokens.demoClient],
        tokenTtlSeconds: options.tokenTtlSeconds ?? 86_400,
        secretFile: options.directory === ":memory:" ? undefined : join(options.directory, "ims-secret")
      })
    ),
    Layer.provideMerge(
      ProfileStore.layerFor({ directory: options.directory, database: options.database, schema: options.databaseSchema })
    )
  )

/**
 * The service on a real port. `beforeListening` runs against the store first
 * (seeding), so the first request already sees its data.
 */
export const serve = <E>(
  options: ServiceOptions & { readonly port: number; readonly host: string },
  beforeListening: Effect.Effect<void, E, Layer.Layer.Success<ReturnType<typeof layer>>> = Effect.void
) =>
  HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
    Layer.provide(Layer.effectDiscard(beforeListening).pipe(Layer.provideMerge(layer(options)))),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(createServer, { port: options.port, host: options.host })),
    // Nothing exports spans from this process, and making them (one per
    // request and per SQL statement) was a tenth of a lookup's CPU. A program
    // that wants traces provides `layer` to its own server with a tracer.
    Layer.provide(Layer.setTracerEnabled(false))
  )
