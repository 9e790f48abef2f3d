/**
 * The local profile service: the core's contract served from the profile
 * store, plus the Platform surfaces that feed it.
 *
 * @since 0.1.0
 */
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { ProfileApi } from "@rtcp/core"
import { ProfileStore, StoreState } from "@rtcp/profile-store"
import { Effect, Layer } from "effect"
import { join, resolve } from "node:path"
import * as Faults from "./Faults.js"
import * as Gateway from "./Gateway.js"
import { AdminLive } from "./http/admin.js"
import { ComputedAttributesLive } from "./http/computedAttributes.js"
import { DestinationsLive } from "./http/destinations.js"
import { EntitiesLive } from "./http/entities.js"
import { ErrorsLive } from "./http/errors.js"
import { ExportJobsLive } from "./http/exportJobs.js"
import { RtcpLive } from "./http/explain.js"
import { ImsLive } from "./http/ims.js"
import { MergePoliciesLive } from "./http/mergePolicies.js"
import { PlatformRoutesLive } from "./http/platform.js"
import { PreviewSampleStatusLive } from "./http/previewSampleStatus.js"
import { ProjectionsLive } from "./http/projections.js"
import { SystemJobsLive } from "./http/systemJobs.js"
import * as ImsTokens from "./ImsTokens.js"
import * as LeanRoute from "./LeanRoute.js"
import * as LookupCache from "./LookupCache.js"
import * as RequestInspector from "./RequestInspector.js"

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
  /**
   * Serves `/rtcp/admin/...` (faults, request inspector, reset, snapshots)
   * and records requests for the inspector. Never on by default.
   */
  readonly admin?: boolean | undefined
  /** Size of the request inspector (with `admin`). */
  readonly inspector?: RequestInspector.InspectorOptions | undefined
  /** A snapshot folder whose state replaces the store's at start (before seeding). */
  readonly importFrom?: string | undefined
  /** A folder the whole state is exported to when the service stops (SIGINT, SIGTERM). */
  readonly exportOnExit?: string | undefined
  /**
   * Profile and event lookups on the lean route (LeanRoute.ts) rather than
   * through HttpApi (default on; `serve` only). The answers are the same;
   * `false` is for comparing the two. Off anyway with `faults` or `admin`:
   * fault rules and the request inspector see every request in the HttpApi
   * middleware, and those runs are about behaviour, not speed.
   */
  readonly leanRoute?: boolean | undefined
  /**
   * MiB of lookup answers the lean route keeps between writes (LookupCache.ts;
   * default 64, 0 for none). Only on SQLite: a shared Postgres database has
   * no version to check an answer against.
   */
  readonly lookupCacheMb?: number | undefined
  /** The cache itself, made by the caller (a test reads its counts); made from `lookupCacheMb` when absent. */
  readonly lookupCache?: LookupCache.LookupCache | undefined
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
    ImsLive,
    RtcpLive
  ])
)

/**
 * The routes and middleware. The fault middleware runs when faults or the
 * admin endpoints are asked for; the admin routes and the request inspector
 * only with `admin`.
 */
const RoutesLive = (options: ServiceOptions) =>
  options.admin === true
    ? Layer.mergeAll(ApiLive, PlatformRoutesLive, ErrorsLive, Faults.layerApiMiddleware, AdminLive).pipe(
        Layer.provideMerge(RequestInspector.layer(options.inspector))
      )
    : Layer.mergeAll(ApiLive, PlatformRoutesLive, ErrorsLive, options.faults === undefined ? Layer.empty : Faults.layerApiMiddleware)

/** `importFrom` at start, `exportOnExit` when the scope closes (before the store does). */
const SnapshotsLive = (options: ServiceOptions) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const state = yield* StoreState.StoreState
      if (options.importFrom !== undefined) {
        const manifest = yield* state.importFrom(resolve(options.importFrom))
        yield* Effect.logInfo(`imported the snapshot in ${resolve(options.importFrom)} (sandboxes ${manifest.sandboxes.join(", ")})`)
      }
      const target = options.exportOnExit
      if (target !== undefined) {
        yield* Effect.addFinalizer(() =>
          state.exportTo(resolve(target)).pipe(
            Effect.tap(() => Effect.logInfo(`exported the state to ${resolve(target)}`)),
            Effect.catchAll((error) => Effect.logError(error.message))
          )
        )
      }
    })
  )

/** Everything but the HTTP server itself: what tests serve with `NodeHttpServer.layerTest`. */
export const layer = (options: ServiceOptions) =>
  Layer.mergeAll(RoutesLive(options), SnapshotsLive(options)).pipe(
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
  options: ServiceOptions & {
    readonly port: number
    readonly host: string
    /** Logs "Listening on …" (default); off for a writer behind reader workers, whose port is not the public one. */
    readonly logAddress?: boolean | undefined
  },
  beforeListening: Effect.Effect<void, E, Layer.Layer.Success<ReturnType<typeof layer>>> = Effect.void
) => {
  const server = new LeanRoute.LeanServer()
  const lean = leanRouteOn(options) ? LeanRoute.layer(server, { cache: options.lookupCache ?? LookupCache.make(options.lookupCacheMb) }) : Layer.empty
  const app = Layer.merge(Layer.effectDiscard(beforeListening), lean).pipe(Layer.provideMerge(layer(options)))
  // The port opens once the store, the routes and `beforeListening` are
  // ready: a connection accepted earlier would have had no route to answer
  // it. (`app` is one layer value, built once for both.)
  const listening = NodeHttpServer.layer(() => server, { port: options.port, host: options.host }).pipe(Layer.provide(app))
  return HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
    Layer.provide(app),
    options.logAddress === false ? (layer) => layer : HttpServer.withLogAddress,
    Layer.provideMerge(listening),
    // Nothing exports spans from this process, and making them (one per
    // request and per SQL statement) was a tenth of a lookup's CPU. A program
    // that wants traces provides `layer` to its own server with a tracer.
    Layer.provide(Layer.setTracerEnabled(false))
  )
}

/** Whether `serve` answers the hot reads on the lean route (see `ServiceOptions.leanRoute`). */
export const leanRouteOn = (options: ServiceOptions): boolean =>
  options.leanRoute !== false && options.faults === undefined && options.admin !== true
