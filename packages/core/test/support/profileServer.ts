/**
 * A real HTTP server built from the same contract (`ProfileApi`), on a
 * random loopback port (`NodeHttpServer.layerTest`). Every group is
 * implemented; handlers answer Adobe's documented example bodies and record
 * what they received. The PlatformGateway middleware checks the Platform
 * headers as the gateway does, with the gateway's documented error bodies.
 *
 * Special inputs make handlers fail (see `trouble`), and the paginated lists
 * serve several pages.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import {
  ComputedAttribute,
  EdgeProjection,
  Entity,
  ExportJob,
  ImsToken,
  MergePolicy,
  PlatformGateway,
  PreviewSampleStatus,
  ProfileApi,
  ProfileError,
  SystemJob
} from "@rtcp/core"
import { type Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import { fixture } from "./fixtures.js"

export interface Received {
  /** `group.endpoint` */
  readonly endpoint: string
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: Readonly<Record<string, string>>
  readonly pathParams: unknown
  readonly urlParams: unknown
  readonly payload: unknown
  /** What the PlatformGateway middleware resolved (absent for IMS). */
  readonly context: Context.Tag.Service<typeof PlatformGateway.PlatformContext> | undefined
}

export const credentials = { clientId: "contract-client", clientSecret: "contract-secret" } as const

/** Inputs that make the server fail, with the body Adobe documents for that failure. */
export const trouble = {
  missingEntity: "missing@example.com",
  tangledEntity: "tangled@example.com",
  invalidEntity: "invalid@example.com",
  partialEntity: "partial@example.com",
  missingId: "00000000-0000-0000-0000-000000000000",
  recordDataset: "5c802d3cd83fc114b741c4b5-record",
  rateLimitedDataset: "5c802d3cd83fc114b741c4b5-busy",
  brokenDataset: "5c802d3cd83fc114b741c4b5-broken",
  missingReportDate: "1999-01-01",
  /** `getMergePolicy` of this id answers Adobe's get.json as sent (no `name`). */
  documentedPolicy: "10648288-cda5-11e8-a8d5-f2801f1b9fd1"
} as const

export const tooManyIdentitiesBody = {
  message: "UPS-MRG-1000002: Too many related identities. The identity graph links more than 50 identities.",
  statusCode: "422"
}

/** The cursor of events page 3 (page 2's cursor is the one in Adobe's get-events.json). */
export const eventsPage3Cursor = "c8d11988-6b56-4571-a123-b6ce74236038"
const eventsPage2Cursor = "c8d11988-6b56-4571-a123-b6ce74236037"

/** An extra field Adobe may add any day: it must survive decoding. */
export const madeUp = { madeUpField: { note: "not in any schema", n: 42 } } as const

const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown): A => Schema.decodeUnknownSync(schema)(value)

/**
 * HttpApiBuilder (platform 0.97) decodes a payload as JSON only when its
 * content-type contains "application/json"; Adobe's vendor types
 * (`application/vnd.adobe.platform.projectionDestination+json; version=1`)
 * reach a plain `handle` as bytes and fail with 400. The vendor endpoints are
 * therefore served with `handleRaw`, parsing the body here.
 */
const vendorPayload = <A, I>(request: HttpServerRequest.HttpServerRequest, schema: Schema.Schema<A, I>) =>
  Effect.orDie(Effect.flatMap(request.json, Schema.decodeUnknown(schema)))

// ---------------------------------------------------------------------------
// documented bodies, decoded (handlers return the Type side of the contract)
// ---------------------------------------------------------------------------

const eventPages = () => {
  const first = fixture("entities/get-events.json")
  const second = fixture("entities/get-events-last-page.json")
  second._page.next = eventsPage3Cursor
  second._links.next.href = first._links.next.href.replace(`start=${eventsPage2Cursor}`, `start=${eventsPage3Cursor}`)
  const third = fixture("entities/get-events-last-page.json")
  third._page.start = eventsPage3Cursor
  third.children[0].entityId = eventsPage3Cursor
  third.children[0].timestamp = 1531260478000
  return [first, second, third].map((page) => decode(Entity.EntityLookupResult, page))
}

const profileWithExtras = () => {
  const body = fixture("entities/get-profile.json")
  const entity = body["BVrqzwVv7o2p3naHvnsWpqZXv3KJgA"]
  Object.assign(entity, madeUp)
  entity.entity._acmecorp = { loyalty: { tier: "gold" } }
  return decode(Entity.EntityLookupResult, body)
}

const mergePolicyPages = () => {
  const first = fixture("merge-policies/list.json")
  const second = {
    _page: { totalCount: 3, pageSize: 2 },
    children: [fixture("merge-policies/create-response.json")],
    _links: { next: { href: "" } }
  }
  return [first, second].map((page) => decode(MergePolicy.MergePolicyList, page))
}

export const mergePolicyCursor = (): string =>
  new URL(fixture("merge-policies/list.json")._links.next.href.replace(/^@/, ""), "http://x").searchParams.get("start")!

const systemJobPages = () => {
  const first = fixture("system-jobs/list.json")
  first._page.totalCount = 3
  const second = { _page: { pageSize: 2, start: "1", totalCount: 3 }, children: [fixture("system-jobs/get.json")] }
  return [first, second].map((page) => decode(SystemJob.SystemJobList, page))
}

export const exportJobsOffset = "1538573416687_722"

const exportJobPages = () => {
  const first = fixture("export-jobs/list.json")
  const second = { records: [fixture("export-jobs/get.json")], page: { pageSize: 2 }, link: {} }
  return [first, second].map((page) => decode(ExportJob.ExportJobList, page))
}

const computedAttributes = () =>
  decode(ComputedAttribute.ComputedAttributeList, fixture("computed-attributes/list.json")).computedAttributes

// ---------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------

export interface ProfileServer {
  readonly received: Array<Received>
  readonly issuedTokens: Array<string>
  /** The server, and an HttpClient whose URLs are relative to it. */
  readonly layer: Layer.Layer<Layer.Layer.Success<typeof NodeHttpServer.layerTest>, unknown>
  /** Requests seen by `endpoint`, in order. */
  readonly receivedBy: (endpoint: string) => ReadonlyArray<Received>
  readonly reset: () => void
}

export const makeProfileServer = (): ProfileServer => {
  const received: Array<Received> = []
  const issuedTokens: Array<string> = []

  const record = (
    endpoint: string,
    args: {
      readonly request: HttpServerRequest.HttpServerRequest
      readonly path?: unknown
      readonly urlParams?: unknown
      readonly payload?: unknown
    }
  ) =>
    Effect.map(Effect.serviceOption(PlatformGateway.PlatformContext), (context) => {
      const url = new URL(args.request.url, "http://server.test")
      received.push({
        endpoint,
        method: args.request.method,
        path: url.pathname,
        query: url.searchParams,
        headers: { ...args.request.headers },
        pathParams: args.path,
        urlParams: args.urlParams,
        payload: args.payload,
        context: Option.getOrUndefined(context)
      })
    })

  const notFound = (what: string) =>
    new ProfileError.NotFound({ status: 404, message: `${what} not found`, body: fixture("entities/error-404.json") })

  // The gateway: the checks and bodies of Adobe's "Request header errors".
  const GatewayLive = Layer.succeed(
    PlatformGateway.PlatformGateway,
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const header = (name: string) => request.headers[name]
      const authorization = header("authorization")
      if (authorization === undefined) {
        return yield* new ProfileError.Forbidden({
          status: 403,
          message: "token missing",
          body: fixture("gateway/oauth-token-missing-403010.json")
        })
      }
      const token = authorization.replace(/^Bearer /, "")
      if (!issuedTokens.includes(token)) {
        return yield* new ProfileError.Unauthorized({
          status: 401,
          message: "token invalid",
          body: fixture("gateway/oauth-token-invalid-401013.json")
        })
      }
      const apiKey = header("x-api-key")
      if (apiKey === undefined) {
        return yield* new ProfileError.Forbidden({
          status: 403,
          message: "api key missing",
          body: fixture("gateway/api-key-required-403000.json")
        })
      }
      if (apiKey !== credentials.clientId) {
        return yield* new ProfileError.Forbidden({
          status: 403,
          message: "api key invalid",
          body: fixture("gateway/api-key-invalid-403003.json")
        })
      }
      const imsOrgId = header("x-gw-ims-org-id")
      const sandboxName = header("x-sandbox-name")
      if (imsOrgId === undefined || sandboxName === undefined) {
        return yield* new ProfileError.BadRequest({
          status: 400,
          message: "missing header",
          body: fixture("gateway/missing-header-400003.json")
        })
      }
      return {
        imsOrgId,
        sandboxName,
        apiKey,
        requestId: header("x-request-id") ?? "none",
        subject: credentials.clientId
      }
    })
  )

  const EntitiesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "entities", (handlers) =>
    handlers
      .handle("get", (args) =>
        Effect.gen(function* () {
          yield* record("entities.get", args)
          const query = args.urlParams
          if (query["schema.name"] === Entity.SchemaName.experienceEvent) {
            const pages = eventPages()
            if (query.start === undefined) return pages[0]!
            if (query.start === eventsPage2Cursor) return pages[1]!
            if (query.start === eventsPage3Cursor) return pages[2]!
            return yield* notFound(`events page ${query.start}`)
          }
          switch (query.entityId) {
            case trouble.missingEntity:
              return yield* notFound("profile")
            case trouble.tangledEntity:
              return yield* new ProfileError.TooManyRelatedIdentities({
                status: 422,
                message: "too many related identities",
                body: tooManyIdentitiesBody
              })
            case trouble.invalidEntity:
              return yield* new ProfileError.BadRequest({
                status: 400,
                message: "invalid",
                body: fixture("entities/error-400.json")
              })
          }
          return profileWithExtras()
        })
      )
      .handle("post", (args) =>
        Effect.gen(function* () {
          yield* record("entities.post", args)
          if (args.payload.identities.some((identity) => identity.entityId === trouble.partialEntity)) {
            return decode(Entity.PartialFailure, fixture("entities/error-207.json"))
          }
          return decode(
            Entity.EntitiesResult,
            fixture(
              args.payload.schema.name === Entity.SchemaName.experienceEvent
                ? "entities/post-events.json"
                : "entities/post-profiles.json"
            )
          )
        })
      )
      .handle("delete", (args) =>
        Effect.gen(function* () {
          yield* record("entities.delete", args)
          if (args.urlParams.entityId === trouble.missingEntity) return yield* notFound("profile")
          if (args.urlParams.entityId === trouble.partialEntity) {
            // Encoding the success union would pick its Void member (202) for any value: answer 207 explicitly.
            return HttpServerResponse.unsafeJson(fixture("entities/error-207.json"), { status: 207 })
          }
          // 202 Accepted: the contract's types drop the Empty(202) member of this union.
          return HttpServerResponse.empty({ status: 202 })
        })
      )
  )

  const MergePoliciesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "mergePolicies", (handlers) =>
    handlers
      .handle("list", (args) =>
        Effect.gen(function* () {
          yield* record("mergePolicies.list", args)
          const [first, second] = mergePolicyPages()
          return args.urlParams.start === mergePolicyCursor() ? second! : first!
        })
      )
      .handle("create", (args) =>
        Effect.gen(function* () {
          yield* record("mergePolicies.create", args)
          // Echo the fields we do not know: they must survive both ways.
          const known = new Set(["name", "schema", "identityGraph", "attributeMerge", "default", "isActiveOnEdge"])
          const extras = Object.fromEntries(Object.entries(args.payload).filter(([key]) => !known.has(key)))
          return { ...decode(MergePolicy.MergePolicy, fixture("merge-policies/create-response.json")), ...extras }
        })
      )
      .handle("bulkGet", (args) =>
        Effect.gen(function* () {
          yield* record("mergePolicies.bulkGet", args)
          return decode(MergePolicy.BulkGetResult, fixture("merge-policies/bulk-get-response.json"))
        })
      )
      .handle("get", (args) =>
        Effect.gen(function* () {
          yield* record("mergePolicies.get", args)
          if (args.path.mergePolicyId === trouble.missingId) return yield* notFound("merge policy")
          if (args.path.mergePolicyId === trouble.documentedPolicy) {
            // Adobe's example as sent: it has no `name`, so the contract cannot encode it.
            return HttpServerResponse.unsafeJson(fixture("merge-policies/get.json"))
          }
          return {
            ...decode(MergePolicy.MergePolicy, fixture("merge-policies/create-response.json")),
            ...madeUp
          }
        })
      )
      .handle("replace", (args) =>
        Effect.gen(function* () {
          yield* record("mergePolicies.replace", args)
          if (args.path.mergePolicyId === trouble.missingId) return yield* notFound("merge policy")
          return decode(MergePolicy.MergePolicy, fixture("merge-policies/put-response.json"))
        })
      )
      .handle("patch", (args) =>
        Effect.gen(function* () {
          yield* record("mergePolicies.patch", args)
          return decode(MergePolicy.MergePolicy, fixture("merge-policies/patch-response.json"))
        })
      )
      .handle("delete", (args) =>
        Effect.gen(function* () {
          yield* record("mergePolicies.delete", args)
          if (args.path.mergePolicyId === trouble.missingId) return yield* notFound("merge policy")
        })
      )
  )

  const ComputedAttributesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "computedAttributes", (handlers) =>
    handlers
      .handle("list", (args) =>
        Effect.gen(function* () {
          yield* record("computedAttributes.list", args)
          const all = computedAttributes()
          const offset = args.urlParams.offset ?? 0
          const limit = args.urlParams.limit ?? 20
          const page = all.slice(offset, offset + limit)
          return {
            _links: { self: { href: `/attributes?offset=${offset}&limit=${limit}` } },
            computedAttributes: page,
            _page: { offset, limit, count: page.length, totalCount: all.length }
          }
        })
      )
      .handle("create", (args) =>
        Effect.gen(function* () {
          yield* record("computedAttributes.create", args)
          return decode(ComputedAttribute.ComputedAttribute, fixture("computed-attributes/create-response.json"))
        })
      )
      .handle("get", (args) =>
        Effect.gen(function* () {
          yield* record("computedAttributes.get", args)
          if (args.path.ATTRIBUTE_ID === trouble.missingId) return yield* notFound("computed attribute")
          return decode(ComputedAttribute.ComputedAttribute, fixture("computed-attributes/get.json"))
        })
      )
      .handle("patch", (args) =>
        Effect.gen(function* () {
          yield* record("computedAttributes.patch", args)
          return decode(ComputedAttribute.ComputedAttribute, fixture("computed-attributes/patch-response.json"))
        })
      )
      .handle("delete", (args) =>
        Effect.gen(function* () {
          yield* record("computedAttributes.delete", args)
          return decode(ComputedAttribute.ComputedAttribute, fixture("computed-attributes/delete-response.json"))
        })
      )
  )

  const ExportJobsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "exportJobs", (handlers) =>
    handlers
      .handle("list", (args) =>
        Effect.gen(function* () {
          yield* record("exportJobs.list", args)
          const [first, second] = exportJobPages()
          return args.urlParams.offset === exportJobsOffset ? second! : first!
        })
      )
      .handle("create", (args) =>
        Effect.gen(function* () {
          yield* record("exportJobs.create", args)
          return decode(ExportJob.ExportJob, fixture("export-jobs/create-response.json"))
        })
      )
      .handle("get", (args) =>
        Effect.gen(function* () {
          yield* record("exportJobs.get", args)
          if (args.path.exportJobId === 404) return yield* notFound("export job")
          return decode(ExportJob.ExportJob, fixture("export-jobs/get.json"))
        })
      )
      .handle("cancel", (args) =>
        Effect.gen(function* () {
          yield* record("exportJobs.cancel", args)
          return decode(ExportJob.CancelResult, fixture("export-jobs/cancel-response.json"))
        })
      )
  )

  const reportOr = <A, I>(date: string | undefined, schema: Schema.Schema<A, I>, path: string) =>
    date === trouble.missingReportDate
      ? Effect.fail(notFound(`report of ${date}`))
      : Effect.succeed(decode(schema, fixture(path)))

  const PreviewSampleStatusLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "previewSampleStatus", (handlers) =>
    handlers
      .handle("status", (args) =>
        Effect.gen(function* () {
          yield* record("previewSampleStatus.status", args)
          return decode(PreviewSampleStatus.SampleStatus, fixture("preview-sample-status/status.json"))
        })
      )
      .handle("datasetReport", (args) =>
        Effect.zipRight(
          record("previewSampleStatus.datasetReport", args),
          reportOr(args.urlParams.date, PreviewSampleStatus.DatasetReport, "preview-sample-status/report-dataset.json")
        )
      )
      .handle("namespaceReport", (args) =>
        Effect.zipRight(
          record("previewSampleStatus.namespaceReport", args),
          reportOr(args.urlParams.date, PreviewSampleStatus.NamespaceReport, "preview-sample-status/report-namespace.json")
        )
      )
      .handle("datasetOverlapReport", (args) =>
        Effect.zipRight(
          record("previewSampleStatus.datasetOverlapReport", args),
          reportOr(
            args.urlParams.date,
            PreviewSampleStatus.OverlapReport,
            "preview-sample-status/report-dataset-overlap.json"
          )
        )
      )
      .handle("namespaceOverlapReport", (args) =>
        Effect.zipRight(
          record("previewSampleStatus.namespaceOverlapReport", args),
          reportOr(
            args.urlParams.date,
            PreviewSampleStatus.OverlapReport,
            "preview-sample-status/report-namespace-overlap.json"
          )
        )
      )
      .handle("unstitchedProfilesReport", (args) =>
        Effect.zipRight(
          record("previewSampleStatus.unstitchedProfilesReport", args),
          Effect.succeed(
            decode(
              PreviewSampleStatus.UnstitchedProfilesReport,
              fixture("preview-sample-status/report-unstitched-profiles.json")
            )
          )
        )
      )
  )

  const SystemJobsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "systemJobs", (handlers) =>
    handlers
      .handle("list", (args) =>
        Effect.gen(function* () {
          yield* record("systemJobs.list", args)
          const pages = systemJobPages()
          return pages[args.urlParams.start ?? 0] ?? { _page: { pageSize: 2, totalCount: 3 }, children: [] }
        })
      )
      .handle("create", (args) =>
        Effect.gen(function* () {
          yield* record("systemJobs.create", args)
          const dataset = args.payload.dataSetId ?? args.payload.datasetId
          if (dataset === trouble.recordDataset) {
            return yield* new ProfileError.Unprocessable({
              status: 422,
              message: "Invalid system job payload.",
              body: fixture("system-jobs/error-422.json")
            })
          }
          if (dataset === trouble.rateLimitedDataset) {
            return yield* new ProfileError.RateLimited({
              status: 429,
              message: "Too many requests",
              body: fixture("entities/error-429.json")
            })
          }
          if (dataset === trouble.brokenDataset) {
            return yield* new ProfileError.ServerError({
              status: 500,
              message: "Unable to connect to server",
              body: fixture("entities/error-500.json")
            })
          }
          return decode(
            SystemJob.SystemJob,
            fixture(args.payload.batchId ? "system-jobs/create-batch-response.json" : "system-jobs/create-response.json")
          )
        })
      )
      .handle("get", (args) =>
        Effect.gen(function* () {
          yield* record("systemJobs.get", args)
          if (args.path.ID === trouble.missingId) return yield* notFound("system job")
          return decode(SystemJob.SystemJob, fixture("system-jobs/get.json"))
        })
      )
      .handle("delete", (args) =>
        Effect.gen(function* () {
          yield* record("systemJobs.delete", args)
          if (args.path.ID === trouble.missingId) return yield* notFound("system job")
        })
      )
  )

  const created = () => decode(EdgeProjection.Projection, fixture("projections/projection-create-response.json"))

  const ProjectionsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "projections", (handlers) =>
    handlers
      .handle("list", (args) =>
        Effect.gen(function* () {
          yield* record("projections.list", args)
          return decode(EdgeProjection.ProjectionList, fixture("projections/projections-list.json"))
        })
      )
      .handleRaw("create", (args) =>
        Effect.gen(function* () {
          const payload = yield* vendorPayload(args.request, EdgeProjection.ProjectionInput)
          yield* record("projections.create", { ...args, payload })
          return created()
        })
      )
      .handle("get", (args) =>
        Effect.gen(function* () {
          yield* record("projections.get", args)
          if (args.path.projectionId === trouble.missingId) return yield* notFound("projection")
          return created()
        })
      )
      .handleRaw("replace", (args) =>
        Effect.gen(function* () {
          const payload = yield* vendorPayload(args.request, EdgeProjection.ProjectionInput)
          yield* record("projections.replace", { ...args, payload })
          return { ...created(), selector: payload.selector, version: 3 }
        })
      )
      .handle("delete", (args) => record("projections.delete", args))
  )

  const DestinationsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "destinations", (handlers) =>
    handlers
      .handle("list", (args) =>
        Effect.gen(function* () {
          yield* record("destinations.list", args)
          return decode(EdgeProjection.DestinationList, fixture("projections/destinations-list.json"))
        })
      )
      .handleRaw("create", (args) =>
        Effect.gen(function* () {
          const payload = yield* vendorPayload(args.request, EdgeProjection.DestinationInput)
          yield* record("destinations.create", { ...args, payload })
          return decode(EdgeProjection.Destination, fixture("projections/destination-create-response.json"))
        })
      )
      .handle("get", (args) =>
        Effect.gen(function* () {
          yield* record("destinations.get", args)
          if (args.path.destinationId === trouble.missingId) return yield* notFound("destination")
          return decode(EdgeProjection.Destination, fixture("projections/destination-get.json"))
        })
      )
      .handleRaw("replace", (args) =>
        Effect.gen(function* () {
          const payload = yield* vendorPayload(args.request, EdgeProjection.DestinationInput)
          yield* record("destinations.replace", { ...args, payload })
          return decode(EdgeProjection.Destination, fixture("projections/destination-put-response.json"))
        })
      )
      .handle("delete", (args) => record("destinations.delete", args))
  )

  const ImsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "ims", (handlers) =>
    handlers.handle("token", (args) =>
      Effect.gen(function* () {
        yield* record("ims.token", args)
        const { client_id, client_secret, grant_type } = args.payload
        if (
          grant_type !== "client_credentials" ||
          client_id !== credentials.clientId ||
          Redacted.value(client_secret) !== credentials.clientSecret
        ) {
          return yield* new ProfileError.Unauthorized({
            status: 401,
            message: "invalid_client",
            body: { error: "invalid_client", error_description: "invalid client credentials" }
          })
        }
        const documented = decode(ImsToken.TokenResponse, fixture("ims/token-response.json"))
        const token = `${Redacted.value(documented.access_token)}.${issuedTokens.length + 1}`
        issuedTokens.push(token)
        return { ...documented, access_token: Redacted.make(token) }
      })
    )
  )

  // Adobe has no /rtcp paths: its gateway answers them 404, as any unknown path.
  const RtcpLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "rtcp", (handlers) =>
    handlers.handle("explainProfile", (args) =>
      Effect.zipRight(
        record("rtcp.explainProfile", args),
        Effect.fail(new ProfileError.NotFound({ status: 404, message: "Not Found", body: { error_code: "404050", message: "Not Found" } }))
      )
    )
  )

  const ApiLive = HttpApiBuilder.api(ProfileApi.ProfileApi).pipe(
    Layer.provide([
      RtcpLive,
      EntitiesLive,
      MergePoliciesLive,
      ComputedAttributesLive,
      ExportJobsLive,
      PreviewSampleStatusLive,
      SystemJobsLive,
      ProjectionsLive,
      DestinationsLive,
      ImsLive
    ]),
    Layer.provide(GatewayLive)
  )

  const layer = HttpApiBuilder.serve().pipe(Layer.provide(ApiLive), Layer.provideMerge(NodeHttpServer.layerTest))

  return {
    received,
    issuedTokens,
    layer,
    receivedBy: (endpoint) => received.filter((request) => request.endpoint === endpoint),
    reset: () => {
      received.length = 0
    }
  }
}
