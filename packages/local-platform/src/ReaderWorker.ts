/**
 * A reader process of a service that runs on several cores (`rtcp-service
 * --workers N`): it accepts on the public port beside the other readers,
 * answers the hot reads (LeanRoute) from the store itself, read-only, and
 * forwards every other request to the writer, the one process that runs the
 * whole service (ingestion, jobs, admin, snapshots) on a loopback port.
 *
 * Why a write is visible to the next read here: the writer acknowledges a
 * write once its transaction committed; a SQLite connection in WAL mode
 * starts each read at the last commit, and a reader keeps nothing of the
 * store in memory (`ProfileStore.layerReader`); on Postgres every read goes
 * to the database anyway.
 *
 * @since 0.1.0
 */
import { ProfileStore } from "@rtcp/profile-store"
import { Effect, Layer } from "effect"
import { Agent, type IncomingMessage, request as httpRequest, type ServerResponse } from "node:http"
import { join } from "node:path"
import * as ImsTokens from "./ImsTokens.js"
import * as LeanRoute from "./LeanRoute.js"
import * as LookupCache from "./LookupCache.js"

export interface ReaderOptions {
  /** The data folder (SQLite file, IMS signing key) the writer opened. */
  readonly directory: string
  /** The writer's Postgres URL, when the store lives there. */
  readonly database?: string | undefined
  readonly databaseSchema?: string | undefined
  readonly tokenTtlSeconds?: number | undefined
  /** The public port and address (shared with the other readers through node:cluster). */
  readonly port: number
  readonly host: string
  /** Where the writer listens (loopback). */
  readonly writer: { readonly host: string; readonly port: number }
  /** MiB of lookup answers kept between writes (see `ServiceOptions.lookupCacheMb`; default 64, 0 for none). */
  readonly lookupCacheMb?: number | undefined
  /** Extra headers on every answer (`x-rtcp-worker` for tests, when asked for). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Told the port once the reader listens. */
  readonly onListening?: ((port: number) => void) | undefined
}

/** Hop-by-hop headers: each connection has its own. */
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"])

/** Sends a request on to the writer and its answer back, unchanged. */
export const forwarder = (writer: ReaderOptions["writer"], extra: Readonly<Record<string, string>> = {}) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  return (request: IncomingMessage, response: ServerResponse) => {
    const headers: Record<string, string | Array<string>> = {}
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !HOP.has(name)) headers[name] = value
    if (request.headers["transfer-encoding"] !== undefined) headers["transfer-encoding"] = request.headers["transfer-encoding"]
    const upstream = httpRequest(
      { host: writer.host, port: writer.port, method: request.method, path: request.url, headers, agent },
      (answer) => {
        const out: Record<string, string | Array<string>> = {}
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP.has(name)) out[name] = value
        response.writeHead(answer.statusCode ?? 502, { ...out, ...extra })
        answer.pipe(response)
      }
    )
    upstream.on("error", () => {
      if (!response.headersSent) {
        response.writeHead(502, { "content-type": "application/json" })
        response.end(JSON.stringify({ title: "Bad gateway", status: 502, detail: "the service's writer process is not answering" }))
      } else response.destroy()
    })
    response.on("close", () => {
      if (!response.writableFinished) upstream.destroy()
    })
    request.pipe(upstream)
  }
}

/** The reader: the lookups' store services on a read-only connection, the lean route, the forwarder, listening. */
export const layer = (options: ReaderOptions) => {
  const store: Layer.Layer<ProfileStore.ReaderServices, unknown> =
    options.database === undefined
      ? ProfileStore.layerSqliteReader({ directory: options.directory })
      : ProfileStore.layerReader.pipe(Layer.provideMerge(ProfileStore.layerPgClient({ url: options.database, schema: options.databaseSchema })))
  return Layer.scopedDiscard(
    Effect.gen(function* () {
      const runtime = yield* Effect.runtime<ProfileStore.ReaderServices | ImsTokens.ImsTokens>()
      const server = new LeanRoute.LeanServer()
      server.lean = LeanRoute.make(runtime, { headers: options.headers, cache: LookupCache.make(options.lookupCacheMb) })
      server.on("request", forwarder(options.writer, options.headers))
      yield* Effect.acquireRelease(
        Effect.async<void, Error>((resume) => {
          server.once("error", (error) => resume(Effect.fail(error)))
          server.listen(options.port, options.host, () => {
            const address = server.address()
            options.onListening?.(typeof address === "object" && address !== null ? address.port : options.port)
            resume(Effect.void)
          })
        }),
        () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      )
    })
  ).pipe(
    Layer.provide(
      ImsTokens.layer({
        clients: [ImsTokens.demoClient],
        tokenTtlSeconds: options.tokenTtlSeconds ?? 86_400,
        secretFile: join(options.directory, "ims-secret")
      })
    ),
    Layer.provide(store)
  )
}
