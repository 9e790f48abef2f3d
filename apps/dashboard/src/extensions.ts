/**
 * The local service's extensions under `/rtcp/...`, which Adobe does not
 * have: the explanation of a merged profile and the request inspector. Same
 * gateway headers as Platform calls. An upstream without them answers 404,
 * which views turn into "this needs the local service".
 *
 * The request inspector is the core's `LocalAdmin` client; the explanation
 * is read here, in the wire shape the local service documents
 * (`GET /rtcp/explain/profile`), until the core has its own operation.
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { AccessToken, LocalAdmin, Platform, ProfileError } from "@rtcp/core"
import { Context, Effect, Layer, Option, Redacted, Schema } from "effect"

// ---------------------------------------------------------------------------
// wire shapes
// ---------------------------------------------------------------------------

const Source = Schema.Struct({
  datasetId: Schema.String,
  datasetName: Schema.optional(Schema.NullOr(Schema.String)),
  batchId: Schema.NullOr(Schema.String),
  ingestedAt: Schema.Number,
  recordTimestamp: Schema.NullOr(Schema.Number)
})
export type FragmentSource = typeof Source.Type

export const ProfileExplanation = Schema.Struct({
  entityId: Schema.String,
  mergePolicy: Schema.Struct({
    id: Schema.String,
    name: Schema.optional(Schema.NullOr(Schema.String)),
    version: Schema.optional(Schema.Number),
    attributeMerge: Schema.Struct({ type: Schema.String }),
    identityGraph: Schema.Struct({ type: Schema.String })
  }),
  attributes: Schema.Array(
    Schema.Struct({
      path: Schema.String,
      value: Schema.Unknown,
      source: Source,
      beaten: Schema.Array(Schema.Struct({ value: Schema.Unknown, source: Source }))
    })
  ),
  identities: Schema.Array(
    Schema.Struct({
      namespace: Schema.String,
      id: Schema.String,
      primary: Schema.Boolean,
      link: Schema.NullOr(
        Schema.Struct({
          datasetId: Schema.String,
          batchId: Schema.NullOr(Schema.String),
          linkedTo: Schema.Struct({ namespace: Schema.String, id: Schema.String }),
          firstSeen: Schema.Number,
          lastSeen: Schema.Number
        })
      )
    })
  )
})
export type ProfileExplanation = typeof ProfileExplanation.Type

/** One request the local service answered (the core's `LocalAdmin` client decodes it). */
export type InspectedRequest = LocalAdmin.InspectedRequest

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

export interface LocalExtensionsService {
  readonly explainProfile: (options: {
    readonly entityId: string
    readonly entityIdNS: string
    readonly mergePolicyId?: string | undefined
  }) => Effect.Effect<ProfileExplanation, ProfileError.ProfileError>
  readonly requests: (options: { readonly limit?: number | undefined; readonly since?: number | undefined }) => Effect.Effect<
    ReadonlyArray<InspectedRequest>,
    ProfileError.ProfileError
  >
}

export class LocalExtensions extends Context.Tag("@rtcp/dashboard/LocalExtensions")<LocalExtensions, LocalExtensionsService>() {}

const failure = (status: number, message: string, requestId: string) => {
  const fields = { status, message, requestId }
  if (status === 404) return new ProfileError.NotFound(fields)
  if (status === 401) return new ProfileError.Unauthorized(fields)
  if (status === 403) return new ProfileError.Forbidden(fields)
  if (status >= 500) return new ProfileError.ServerError(fields)
  return new ProfileError.BadRequest(fields)
}

/** The extensions over the client's own HTTP client, token and Platform settings. */
export const layer: Layer.Layer<LocalExtensions, never, HttpClient.HttpClient | AccessToken.AccessToken | Platform.Platform> = Layer.effect(
  LocalExtensions,
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const token = yield* AccessToken.AccessToken
    const settings = yield* Platform.Platform
    const admin = yield* LocalAdmin.make
    const get = <A, I>(path: string, params: Record<string, string>, schema: Schema.Schema<A, I>) =>
      Effect.gen(function* () {
        const bearer = yield* token.get
        const sandbox = yield* Effect.provideService(Platform.sandboxNow, Platform.Platform, settings)
        const requestId = crypto.randomUUID()
        const request = HttpClientRequest.get(`${settings.platformUrl}${path}`).pipe(
          HttpClientRequest.setUrlParams(params),
          HttpClientRequest.setHeaders({
            authorization: `Bearer ${Redacted.value(bearer)}`,
            "x-api-key": settings.apiKey,
            "x-gw-ims-org-id": settings.orgId,
            "x-sandbox-name": sandbox,
            "x-request-id": requestId
          }),
          HttpClientRequest.acceptJson
        )
        const response = yield* http.execute(request).pipe(
          Effect.mapError((error) => new ProfileError.TransportError({ status: 0, message: `GET ${path}: ${error.message}`, requestId }))
        )
        if (response.status >= 400) {
          const text = yield* Effect.orElseSucceed(response.text, () => "")
          const detail = Option.getOrUndefined(
            Option.flatMap(Option.liftThrowable(() => JSON.parse(text) as { detail?: unknown; title?: unknown })(), (body) =>
              Option.fromNullable(typeof body.detail === "string" ? body.detail : typeof body.title === "string" ? body.title : undefined)
            )
          )
          return yield* Effect.fail(failure(response.status, `GET ${path}: ${response.status} ${detail ?? text.slice(0, 200)}`, requestId))
        }
        return yield* HttpClientResponse.schemaBodyJson(schema)(response).pipe(
          Effect.mapError(
            (error) => new ProfileError.ResponseDecodeError({ status: response.status, message: `GET ${path}: answer does not match: ${error.message}`, requestId })
          )
        )
      }).pipe(Effect.scoped)
    return {
      explainProfile: (options) =>
        get(
          "/rtcp/explain/profile",
          { entityId: options.entityId, entityIdNS: options.entityIdNS, ...(options.mergePolicyId ? { mergePolicyId: options.mergePolicyId } : {}) },
          ProfileExplanation
        ),
      requests: (options) => admin.requests(options)
    }
  })
)
