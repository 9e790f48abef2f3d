/**
 * The internal convenience API as a contract: its schemas validate input in
 * routes/internal.ts and give the OpenAPI document the proxy serves. (The
 * routes themselves are Hono's; `HttpApi` is used here for the schemas and
 * the document only.)
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Entity } from "@rtcp/core"
import { Schema } from "effect"

export const Problem = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  status: Schema.Number,
  detail: Schema.optional(Schema.String),
  requestId: Schema.optional(Schema.String),
  upstreamRequestId: Schema.optional(Schema.String),
  upstreamError: Schema.optional(Schema.Unknown)
}).annotations({ identifier: "Problem", description: "RFC 9457 problem details (application/problem+json)" })

export const MAX_BATCH = 100

export const IdentityRef = Schema.Struct({
  namespace: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.-]{1,64}$/)).annotations({
    description: "Identity namespace code (Email, ECID, CRMID, …)"
  }),
  id: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024))
}).annotations({ identifier: "IdentityRef" })

export const BatchGetRequest = Schema.Struct({
  identities: Schema.Array(IdentityRef).pipe(Schema.minItems(1), Schema.maxItems(MAX_BATCH)),
  fields: Schema.optional(Schema.Array(Schema.String)),
  mergePolicyId: Schema.optional(Schema.String),
  withCA: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "BatchGetRequest" })
export type BatchGetRequest = typeof BatchGetRequest.Type

export const BatchGetResult = Schema.Union(
  Schema.Struct({ namespace: Schema.String, id: Schema.String, status: Schema.Literal(200), profile: Entity.ProfileEntity }),
  Schema.Struct({ namespace: Schema.String, id: Schema.String, status: Schema.Number, error: Problem })
).annotations({ identifier: "BatchGetResult" })

export const BatchGetResponse = Schema.Struct({ results: Schema.Array(BatchGetResult) }).annotations({
  identifier: "BatchGetResponse",
  description: "One result per requested identity, in request order"
})

const SandboxHeader = Schema.Struct({
  "x-sandbox-name": Schema.optional(Schema.String).annotations({
    description: "Sandbox; must be one the key allows (default: the proxy's default sandbox when allowed, else the key's first)"
  })
})

export const ProfileQuery = Schema.Struct({
  fields: Schema.optional(Schema.String).annotations({ description: "Comma-separated XDM paths (identities is a pseudo-field)" }),
  mergePolicyId: Schema.optional(Schema.String),
  withCA: Schema.optional(Schema.BooleanFromString).annotations({ description: "Include computed attributes" })
})

export const EventsQuery = Schema.Struct({
  startTime: Schema.optional(Schema.String).annotations({ description: "Inclusive start: epoch milliseconds or ISO 8601" }),
  endTime: Schema.optional(Schema.String).annotations({ description: "Exclusive end: epoch milliseconds or ISO 8601" }),
  limit: Schema.optional(Schema.NumberFromString).annotations({ description: "Events per page, 1–1000 (default 100)" }),
  order: Schema.optional(Schema.Literal("asc", "desc")).annotations({ description: "By timestamp (default asc)" }),
  fields: Schema.optional(Schema.String),
  mergePolicyId: Schema.optional(Schema.String),
  property: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String))).annotations({
    description: "Up to three filters such as web.webPageDetails.name=home (repeat the parameter)"
  }),
  cursor: Schema.optional(Schema.String).annotations({
    description: "From page.next of the previous page; repeat the other parameters unchanged"
  })
})

export const EventsResponse = Schema.Struct({
  events: Schema.Array(Entity.ExperienceEvent),
  page: Schema.Struct({ count: Schema.Number, next: Schema.NullOr(Schema.String) }),
  _links: Schema.Struct({ next: Schema.NullOr(Schema.Struct({ href: Schema.String })) })
}).annotations({ identifier: "EventsPage" })

class CallerKey extends HttpApiMiddleware.Tag<CallerKey>()("CallerKey", {
  security: {
    apiKey: HttpApiSecurity.apiKey({ key: "x-api-key", in: "header" }),
    bearer: HttpApiSecurity.bearer
  }
}) {}

class ProfilesGroup extends HttpApiGroup.make("profiles")
  .add(
    HttpApiEndpoint.get("getProfile", "/v1/profiles/:namespace/:id")
      .setPath(Schema.Struct({ namespace: Schema.String, id: Schema.String }))
      .setUrlParams(ProfileQuery)
      .setHeaders(SandboxHeader)
      .addSuccess(Entity.ProfileEntity)
      .addError(Problem, { status: 404 })
      .addError(Problem, { status: 422 })
      .annotate(
        OpenApi.Description,
        "The merged profile of one identity. Lookups from all callers within a few milliseconds share one " +
          "POST /access/entities; answers are cached briefly (Cache-Status tells hit or miss) and forgotten after " +
          "any write through the proxy."
      )
  )
  .add(
    HttpApiEndpoint.get("getEvents", "/v1/profiles/:namespace/:id/events")
      .setPath(Schema.Struct({ namespace: Schema.String, id: Schema.String }))
      .setUrlParams(EventsQuery)
      .setHeaders(SandboxHeader)
      .addSuccess(EventsResponse)
      .addError(Problem, { status: 404 })
      .annotate(OpenApi.Description, "Experience events of one profile, in a time range, one page at a time")
  )
  .add(
    HttpApiEndpoint.post("batchGet", "/v1/profiles:batchGet")
      .setPayload(BatchGetRequest)
      .setHeaders(SandboxHeader)
      .addSuccess(BatchGetResponse)
      .annotate(OpenApi.Description, `Up to ${MAX_BATCH} profiles; each result has its own status`)
  )
  .addError(Problem, { status: 400 })
  .addError(Problem, { status: 401 })
  .addError(Problem, { status: 403 })
  .addError(Problem, { status: 413 })
  .addError(Problem, { status: 429 })
  .addError(Problem, { status: 502 })
  .addError(Problem, { status: 503 })
  .addError(Problem, { status: 504 })
  .middleware(CallerKey) {}

export class ProxyApi extends HttpApi.make("ProxyApi")
  .add(ProfilesGroup)
  .annotateContext(
    OpenApi.annotations({
      title: "rtcp proxy — internal API",
      version: "0.1.0",
      description:
        "Profile lookups for internal services, without Adobe credentials. Authenticate with your proxy key " +
        "(x-api-key or Authorization: Bearer). The proxy also serves Adobe's own Profile API unchanged under " +
        "/data/core/ups and /data/core/ca (see Adobe's documentation), and an IMS-compatible POST /ims/token/v3 " +
        "that exchanges client_id = key name, client_secret = key for a bearer token."
    })
  ) {}

/** The document served at `GET /v1/openapi.json`. */
export const openApiDocument = (): OpenApi.OpenAPISpec => {
  const spec = OpenApi.fromApi(ProxyApi)
  // HttpApi reads ":batchGet" as a path parameter; the route is literal (Google's custom-method style).
  const paths: Record<string, unknown> = {}
  for (const [path, item] of Object.entries(spec.paths)) {
    paths[path === "/v1/profiles{batchGet}" ? "/v1/profiles:batchGet" : path] = item
  }
  return { ...spec, paths } as OpenApi.OpenAPISpec
}
