/**
 * The local profile service's admin endpoints (`/rtcp/admin/...`): the
 * request inspector, reset and state snapshots. They are rtcp extensions,
 * served only by a local service started with `--admin`; Adobe has none of
 * them, so against Platform (or a local service without `--admin`) every
 * call fails with `NotFound` (404).
 *
 * The admin endpoints take no credentials: only `Platform.platformUrl` is
 * used, and no token is fetched.
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Context, Effect, Layer, Schema } from "effect"
import { mapErrorResponses } from "./internal/http.js"
import { Platform } from "./Platform.js"
import { type ProfileError, ResponseDecodeError } from "./ProfileError.js"

/** Headers (secrets redacted) and body (text, redacted and truncated; null when none). */
export const InspectedMessage = Schema.Struct({
  headers: Schema.Record({ key: Schema.String, value: Schema.String }),
  body: Schema.NullOr(Schema.String)
})
export type InspectedMessage = typeof InspectedMessage.Type

/** One request the local service answered, as its request inspector shows it. */
export const InspectedRequest = Schema.Struct({
  /** Increases by one per request: pass the newest one seen as `since` to poll for more. */
  seq: Schema.Number,
  /** Arrival (epoch milliseconds). */
  at: Schema.Number,
  method: Schema.String,
  path: Schema.String,
  /** The query string without `?`. */
  query: Schema.String,
  status: Schema.Number,
  latencyMs: Schema.Number,
  requestId: Schema.String,
  sandbox: Schema.NullOr(Schema.String),
  /** OAuth client id from the token, else the API key (redacted); null for anonymous calls. */
  caller: Schema.NullOr(Schema.String),
  request: InspectedMessage,
  response: InspectedMessage
})
export type InspectedRequest = typeof InspectedRequest.Type

export const RequestLog = Schema.Struct({ requests: Schema.Array(InspectedRequest) })

/** What a snapshot folder holds (its `manifest.json`). */
export const SnapshotManifest = Schema.Struct({
  format: Schema.String,
  formatVersion: Schema.Number,
  /** The store's migration level the rows were written at. */
  migration: Schema.String,
  createdAt: Schema.String,
  sandboxes: Schema.Array(Schema.String),
  /** Rows per table. */
  tables: Schema.Record({ key: Schema.String, value: Schema.Number })
})
export type SnapshotManifest = typeof SnapshotManifest.Type

const SnapshotAnswer = Schema.Struct({ directory: Schema.String, manifest: SnapshotManifest })
const ResetAnswer = Schema.Struct({ reset: Schema.String })

export interface LocalAdminService {
  /** The last requests, newest first; `since` keeps only those after that `seq`. */
  readonly requests: (query?: {
    readonly limit?: number | undefined
    readonly since?: number | undefined
  }) => Effect.Effect<ReadonlyArray<InspectedRequest>, ProfileError>
  /** Empties one sandbox, or everything (then only `prod` exists, with its default merge policy). */
  readonly reset: (sandbox?: string) => Effect.Effect<void, ProfileError>
  /** Writes the whole state to `directory` on the service's machine (relative to its working directory). */
  readonly exportSnapshot: (directory: string) => Effect.Effect<SnapshotManifest, ProfileError>
  /** Replaces the whole state with the snapshot in `directory` on the service's machine. */
  readonly importSnapshot: (directory: string) => Effect.Effect<SnapshotManifest, ProfileError>
}

export class LocalAdmin extends Context.Tag("@rtcp/core/LocalAdmin")<LocalAdmin, LocalAdminService>() {}

export const make: Effect.Effect<LocalAdminService, never, HttpClient.HttpClient | Platform> = Effect.gen(function* () {
  const settings = yield* Platform
  const http = mapErrorResponses(yield* HttpClient.HttpClient)
  const base = settings.platformUrl.replace(/\/+$/, "")

  const decode =
    <A, I>(schema: Schema.Schema<A, I>, what: string) =>
    (response: HttpClientResponse.HttpClientResponse) =>
      Effect.flatMap(
        Effect.orElseSucceed(response.json, () => undefined as unknown),
        (body) =>
          Effect.mapError(
            Schema.decodeUnknown(schema)(body),
            (error) => new ResponseDecodeError({ status: response.status, message: `${what}: unexpected answer (${error.message})`, body })
          )
      )

  const post = <A, I>(path: string, body: unknown, schema: Schema.Schema<A, I>) =>
    HttpClientRequest.post(`${base}${path}`).pipe(
      HttpClientRequest.bodyUnsafeJson(body),
      http.execute,
      Effect.flatMap(decode(schema, `POST ${path}`)),
      Effect.scoped
    )

  return {
    requests: (query = {}) =>
      HttpClientRequest.get(`${base}/rtcp/admin/requests`).pipe(
        HttpClientRequest.setUrlParams({
          ...(query.limit === undefined ? {} : { limit: String(query.limit) }),
          ...(query.since === undefined ? {} : { since: String(query.since) })
        }),
        http.execute,
        Effect.flatMap(decode(RequestLog, "GET /rtcp/admin/requests")),
        Effect.map((log) => log.requests),
        Effect.scoped
      ),
    reset: (sandbox) => Effect.asVoid(post("/rtcp/admin/reset", sandbox === undefined ? {} : { sandbox }, ResetAnswer)),
    exportSnapshot: (directory) =>
      Effect.map(post("/rtcp/admin/snapshots/export", { directory }, SnapshotAnswer), (answer) => answer.manifest),
    importSnapshot: (directory) =>
      Effect.map(post("/rtcp/admin/snapshots/import", { directory }, SnapshotAnswer), (answer) => answer.manifest)
  }
})

/** Needs an `HttpClient` and the `Platform` settings (only `platformUrl` is read). */
export const layer: Layer.Layer<LocalAdmin, never, HttpClient.HttpClient | Platform> = Layer.effect(LocalAdmin, make)
