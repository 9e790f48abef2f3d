/**
 * `ProfileClient`: the Profile API as a service with one method per
 * operation, a `Stream` for every paginated list, and only `ProfileError`s
 * as failures.
 *
 * Underneath, the contract's `HttpApiClient` sends requests through a client
 * that adds the Platform headers (token, `x-api-key`, `x-gw-ims-org-id`,
 * `x-sandbox-name`, a fresh `x-request-id`), turns error answers into tagged
 * errors and retries what is safe to retry.
 *
 * @since 0.1.0
 */
import { Headers, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Chunk, type ConfigError, Context, Duration, Effect, FiberRef, Layer, Option, Redacted, Schedule, Schema, Stream } from "effect"
import * as AccessToken from "./AccessToken.js"
import * as AepConfig from "./AepConfig.js"
import type * as ComputedAttribute from "./ComputedAttribute.js"
import type * as EdgeProjection from "./EdgeProjection.js"
import * as Entity from "./Entity.js"
import type * as Explain from "./Explain.js"
import * as Forward from "./Forward.js"
import type * as ExportJob from "./ExportJob.js"
import * as Identity from "./Identity.js"
import { lastRequestId, mapErrorResponses, normalizeError, withAttempts } from "./internal/http.js"
import * as MergePolicy from "./MergePolicy.js"
import { Platform, sandboxNow } from "./Platform.js"
import { ProfileApi } from "./ProfileApi.js"
import { BadRequest, NotFound, type ProfileError } from "./ProfileError.js"
import * as SystemJob from "./SystemJob.js"

export interface ProfileLookupOptions {
  readonly fields?: ReadonlyArray<string> | undefined
  readonly mergePolicyId?: string | undefined
  readonly withCA?: boolean | undefined
  readonly schemaName?: string | undefined
}

export interface EventOptions {
  readonly fields?: ReadonlyArray<string> | undefined
  readonly mergePolicyId?: string | undefined
  /** Epoch ms, inclusive. */
  readonly startTime?: number | undefined
  /** Epoch ms, exclusive. */
  readonly endTime?: number | undefined
  /** Events per page (AEP's default is 1000). */
  readonly limit?: number | undefined
  readonly orderby?: "+timestamp" | "-timestamp" | undefined
  /** Up to three `property` filters such as `web.webPageDetails.name=home`. */
  readonly property?: ReadonlyArray<string> | undefined
}

const makeProfileClient = Effect.gen(function* () {
  const base = yield* HttpClient.HttpClient
  const token = yield* AccessToken.AccessToken
  const settings = yield* Platform
  const single = mapErrorResponses(base)
  const httpClient = withAttempts(single, (request) =>
    Effect.gen(function* () {
      const bearer = yield* token.get
      const sandbox = yield* Effect.provideService(sandboxNow, Platform, settings)
      const explicitSandbox = Headers.get(request.headers, "x-sandbox-name")
      const requestId = crypto.randomUUID()
      yield* FiberRef.set(lastRequestId, requestId)
      return {
        request: request.pipe(
          HttpClientRequest.prependUrl(settings.platformUrl),
          HttpClientRequest.setHeaders({
            authorization: `Bearer ${bearerValue(bearer)}`,
            "x-api-key": settings.apiKey,
            "x-gw-ims-org-id": settings.orgId,
            "x-sandbox-name": Option.getOrElse(explicitSandbox, () => sandbox),
            "x-request-id": requestId
          }),
          HttpClientRequest.acceptJson
        ),
        onUnauthorized: token.invalidate(bearer)
      }
    })
  )
  const raw = yield* HttpApiClient.makeWith(ProfileApi, { httpClient })

  const call = <A>(name: string, effect: Effect.Effect<A, unknown>): Effect.Effect<A, ProfileError> =>
    effect.pipe(
      Effect.catchAll((error) =>
        Effect.flatMap(FiberRef.get(lastRequestId), (sent) => Effect.fail(normalizeError(error, sent)))
      ),
      Effect.locally(lastRequestId, undefined),
      Effect.withSpan(`ProfileClient.${name}`)
    )

  // -------------------------------------------------------------------------
  // Entities
  // -------------------------------------------------------------------------

  const identityParams = (identity: Identity.Identity) => ({
    entityId: identity.id,
    ...(identity.namespace === undefined ? {} : { entityIdNS: identity.namespace })
  })

  const getProfiles = (
    identities: ReadonlyArray<Identity.Identity>,
    options: ProfileLookupOptions = {}
  ): Effect.Effect<Entity.ProfileEntities, ProfileError> =>
    call(
      "getProfiles",
      raw.entities
        .post({
          payload: {
            schema: { name: options.schemaName ?? Entity.SchemaName.profile },
            identities: identities.map((identity) => ({
              entityId: identity.id,
              ...(identity.namespace === undefined ? {} : { entityIdNS: { code: identity.namespace } })
            })),
            ...(options.fields ? { fields: options.fields } : {}),
            ...(options.mergePolicyId ? { mergePolicyId: options.mergePolicyId } : {}),
            ...(options.withCA === undefined ? {} : { withCA: options.withCA })
          }
        })
        .pipe(
          Effect.flatMap((answer) =>
            Array.isArray(answer)
              ? Effect.fail(
                  new NotFound({ status: 207, message: "some identities could not be resolved", body: answer })
                )
              : Effect.succeed(answer as Entity.ProfileEntities)
          )
        )
    )

  const getProfile = (
    identity: Identity.Identity,
    options: ProfileLookupOptions = {}
  ): Effect.Effect<Entity.ProfileEntity, ProfileError> =>
    call(
      "getProfile",
      raw.entities
        .get({
          urlParams: {
            "schema.name": options.schemaName ?? Entity.SchemaName.profile,
            ...identityParams(identity),
            ...(options.fields ? { fields: options.fields.join(",") } : {}),
            ...(options.mergePolicyId ? { mergePolicyId: options.mergePolicyId } : {}),
            ...(options.withCA === undefined ? {} : { withCA: options.withCA })
          }
        })
        .pipe(Effect.flatMap((answer) => firstEntity(answer, identity)))
    )

  const eventQuery = (identity: Identity.Identity, options: EventOptions): Entity.EntityQuery => ({
    "schema.name": Entity.SchemaName.experienceEvent,
    "relatedSchema.name": Entity.SchemaName.profile,
    relatedEntityId: identity.id,
    ...(identity.namespace === undefined ? {} : { relatedEntityIdNS: identity.namespace }),
    ...(options.fields ? { fields: options.fields.join(",") } : {}),
    ...(options.mergePolicyId ? { mergePolicyId: options.mergePolicyId } : {}),
    ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
    ...(options.endTime === undefined ? {} : { endTime: options.endTime }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.orderby === undefined ? {} : { orderby: options.orderby }),
    ...(options.property && options.property.length > 0 ? { property: options.property } : {})
  })

  const eventPage = (query: Entity.EntityQuery): Effect.Effect<Entity.EventPage, ProfileError> =>
    call(
      "getExperienceEvents",
      raw.entities.get({ urlParams: query }).pipe(Effect.flatMap((answer) => asEventPage(answer)))
    )

  const getExperienceEvents = (identity: Identity.Identity, options: EventOptions = {}) =>
    eventPage(eventQuery(identity, options))

  /** Every event of the profile, following `_links.next` until it is empty. */
  const experienceEvents = (
    identity: Identity.Identity,
    options: EventOptions = {}
  ): Stream.Stream<Entity.ExperienceEvent, ProfileError> =>
    Stream.paginateChunkEffect(eventQuery(identity, options), (query) =>
      Effect.flatMap(eventPage(query), (page) =>
        Effect.map(nextQuery(page._links.next?.href, Entity.EntityQuery), (next) => [
          Chunk.fromIterable(page.children),
          next
        ])
      )
    )

  const deleteEntity = (identity: Identity.Identity, options: { readonly mergePolicyId?: string } = {}) =>
    call(
      "deleteEntity",
      raw.entities
        .delete({
          urlParams: {
            "schema.name": Entity.SchemaName.profile,
            ...identityParams(identity),
            ...(options.mergePolicyId ? { mergePolicyId: options.mergePolicyId } : {})
          }
        })
        .pipe(
          Effect.flatMap((answer) =>
            Array.isArray(answer)
              ? Effect.fail(
                  new BadRequest({ status: 207, message: "some records of the entity could not be deleted", body: answer })
                )
              : Effect.void
          )
        )
    )

  // -------------------------------------------------------------------------
  // Merge policies
  // -------------------------------------------------------------------------

  const listMergePolicies = (query: MergePolicy.MergePolicyListQuery = {}) =>
    call("listMergePolicies", raw.mergePolicies.list({ urlParams: query }))

  const mergePolicies = (
    query: MergePolicy.MergePolicyListQuery = {}
  ): Stream.Stream<MergePolicy.MergePolicy, ProfileError> =>
    Stream.paginateChunkEffect(query, (q) =>
      Effect.flatMap(listMergePolicies(q), (page) =>
        Effect.map(nextQuery(page._links?.next?.href, MergePolicy.MergePolicyListQuery), (next) => [
          Chunk.fromIterable(page.children),
          page.children.length === 0 ? Option.none() : next
        ])
      )
    )

  // -------------------------------------------------------------------------
  // Computed attributes
  // -------------------------------------------------------------------------

  const listComputedAttributes = (query: ComputedAttribute.ComputedAttributeListQuery = {}) =>
    call("listComputedAttributes", raw.computedAttributes.list({ urlParams: query }))

  const computedAttributes = (
    query: ComputedAttribute.ComputedAttributeListQuery = {}
  ): Stream.Stream<ComputedAttribute.ComputedAttribute, ProfileError> =>
    Stream.paginateChunkEffect({ ...query, offset: query.offset ?? 0 }, (q) =>
      Effect.map(listComputedAttributes(q), (page) => {
        const seen = (q.offset ?? 0) + page.computedAttributes.length
        const total = page._page.totalCount
        const more = page.computedAttributes.length > 0 && (total === undefined ? page._links?.next !== undefined : seen < total)
        return [Chunk.fromIterable(page.computedAttributes), more ? Option.some({ ...q, offset: seen }) : Option.none()]
      })
    )

  // -------------------------------------------------------------------------
  // Export jobs
  // -------------------------------------------------------------------------

  const listExportJobs = (query: ExportJob.ExportJobListQuery = {}) =>
    call("listExportJobs", raw.exportJobs.list({ urlParams: query }))

  const exportJobs = (query: ExportJob.ExportJobListQuery = {}): Stream.Stream<ExportJob.ExportJob, ProfileError> =>
    Stream.paginateChunkEffect(query, (q) =>
      Effect.map(listExportJobs(q), (page) => {
        const offset = page.link?.next ? new URL(page.link.next, "http://x").searchParams.get("offset") : null
        return [
          Chunk.fromIterable(page.records),
          offset && page.records.length > 0 && offset !== q.offset ? Option.some({ ...q, offset }) : Option.none()
        ]
      })
    )

  // -------------------------------------------------------------------------
  // System jobs
  // -------------------------------------------------------------------------

  const listSystemJobs = (query: SystemJob.SystemJobListQuery = {}) =>
    call("listSystemJobs", raw.systemJobs.list({ urlParams: query }))

  /** `start` is a 0-based page number in the newest guide. */
  const systemJobs = (query: SystemJob.SystemJobListQuery = {}): Stream.Stream<SystemJob.SystemJob, ProfileError> =>
    Stream.paginateChunkEffect({ ...query, start: query.start ?? 0 }, (q) =>
      Effect.map(listSystemJobs(q), (page) => {
        const pageSize = page._page.pageSize ?? q.limit ?? page.children.length
        const total = page._page.totalCount
        const seen = ((q.start ?? 0) + 1) * pageSize
        const more = page.children.length > 0 && pageSize > 0 && (total === undefined ? page.children.length >= pageSize : seen < total)
        return [Chunk.fromIterable(page.children), more ? Option.some({ ...q, start: (q.start ?? 0) + 1 }) : Option.none()]
      })
    )

  const getSystemJob = (id: string) => call("getSystemJob", raw.systemJobs.get({ path: { ID: id } }))

  /** Polls a system job until it reaches a terminal status. */
  const awaitSystemJob = (id: string, options: { readonly every?: Duration.DurationInput } = {}) =>
    getSystemJob(id).pipe(
      Effect.repeat(
        Schedule.identity<SystemJob.SystemJob>().pipe(
          Schedule.zipLeft(Schedule.spaced(options.every ?? "1 second")),
          Schedule.whileInput((job) => !SystemJob.terminalStatuses.has(job.status))
        )
      ),
      Effect.withSpan("ProfileClient.awaitSystemJob")
    )

  return {
    /** The contract client (one method per endpoint, grouped as in `ProfileApi`). */
    raw,
    /**
     * The authenticated Platform client itself: relative URLs, the Platform
     * headers added, error answers as tagged errors, retries as the policy
     * says. For calls outside the contract; gateways that pass AEP requests
     * through as they come use `forward`, which returns error answers as
     * values instead.
     */
    httpClient,
    /**
     * Pass-through (see `Forward`): an AEP request as it came, the answer as a
     * value with a streamed body; non-2xx answers are returned, not failed.
     */
    forward: (request: Forward.ForwardRequest): Effect.Effect<Forward.ForwardResponse, ProfileError> =>
      Forward.forward(request).pipe(
        Effect.provideService(HttpClient.HttpClient, base),
        Effect.provideService(AccessToken.AccessToken, token),
        Effect.provideService(Platform, settings)
      ),
    // entities
    getProfile,
    getProfiles,
    getExperienceEvents,
    experienceEvents,
    getEntities: (payload: Entity.EntitiesRequest) => call("getEntities", raw.entities.post({ payload })),
    deleteEntity,
    /**
     * An rtcp extension (see `Explain`): which fragment supplied each
     * attribute of the merged profile and how each identity joined the graph.
     * Optional: only the local Profile API serves it; Adobe answers
     * `NotFound` (404).
     */
    explainProfile: (query: {
      readonly entityId: string
      readonly entityIdNS?: string | undefined
      readonly mergePolicyId?: string | undefined
    }): Effect.Effect<Explain.ProfileExplanation, ProfileError> =>
      call(
        "explainProfile",
        raw.rtcp.explainProfile({
          urlParams: {
            entityId: query.entityId,
            ...(query.entityIdNS === undefined ? {} : { entityIdNS: query.entityIdNS }),
            ...(query.mergePolicyId === undefined ? {} : { mergePolicyId: query.mergePolicyId })
          }
        })
      ),
    // merge policies
    listMergePolicies,
    mergePolicies,
    getMergePolicy: (id: string) => call("getMergePolicy", raw.mergePolicies.get({ path: { mergePolicyId: id } })),
    createMergePolicy: (input: MergePolicy.MergePolicyInput) =>
      call("createMergePolicy", raw.mergePolicies.create({ payload: input })),
    replaceMergePolicy: (id: string, input: MergePolicy.MergePolicyInput) =>
      call("replaceMergePolicy", raw.mergePolicies.replace({ path: { mergePolicyId: id }, payload: input })),
    patchMergePolicy: (id: string, patch: MergePolicy.MergePolicyPatch) =>
      call(
        "patchMergePolicy",
        raw.mergePolicies.patch({
          path: { mergePolicyId: id },
          payload: (Array.isArray(patch) ? patch : [patch]) as ReadonlyArray<MergePolicy.PatchOperation>
        })
      ),
    deleteMergePolicy: (id: string) =>
      call("deleteMergePolicy", raw.mergePolicies.delete({ path: { mergePolicyId: id } })),
    bulkGetMergePolicies: (ids: ReadonlyArray<string>) =>
      call("bulkGetMergePolicies", raw.mergePolicies.bulkGet({ payload: { ids: ids.map((id) => ({ id })) } })),
    // computed attributes
    listComputedAttributes,
    computedAttributes,
    getComputedAttribute: (id: string) =>
      call("getComputedAttribute", raw.computedAttributes.get({ path: { ATTRIBUTE_ID: id } })),
    createComputedAttribute: (input: ComputedAttribute.ComputedAttributeInput) =>
      call("createComputedAttribute", raw.computedAttributes.create({ payload: input })),
    patchComputedAttribute: (id: string, patch: ComputedAttribute.ComputedAttributePatch) =>
      call("patchComputedAttribute", raw.computedAttributes.patch({ path: { ATTRIBUTE_ID: id }, payload: patch })),
    deleteComputedAttribute: (id: string) =>
      call("deleteComputedAttribute", raw.computedAttributes.delete({ path: { ATTRIBUTE_ID: id } })),
    // export jobs
    listExportJobs,
    exportJobs,
    createExportJob: (request: ExportJob.ExportJobRequest) =>
      call("createExportJob", raw.exportJobs.create({ payload: request })),
    getExportJob: (id: number) => call("getExportJob", raw.exportJobs.get({ path: { exportJobId: id } })),
    cancelExportJob: (id: number) =>
      call("cancelExportJob", raw.exportJobs.cancel({ path: { exportJobId: id } }).pipe(Effect.asVoid)),
    // preview sample status
    getSampleStatus: () => call("getSampleStatus", raw.previewSampleStatus.status()),
    getDatasetReport: (date?: string) =>
      call("getDatasetReport", raw.previewSampleStatus.datasetReport({ urlParams: date ? { date } : {} })),
    getNamespaceReport: (date?: string) =>
      call("getNamespaceReport", raw.previewSampleStatus.namespaceReport({ urlParams: date ? { date } : {} })),
    getDatasetOverlapReport: (date?: string) =>
      call("getDatasetOverlapReport", raw.previewSampleStatus.datasetOverlapReport({ urlParams: date ? { date } : {} })),
    getNamespaceOverlapReport: (date?: string) =>
      call(
        "getNamespaceOverlapReport",
        raw.previewSampleStatus.namespaceOverlapReport({ urlParams: date ? { date } : {} })
      ),
    getUnstitchedProfilesReport: () =>
      call("getUnstitchedProfilesReport", raw.previewSampleStatus.unstitchedProfilesReport()),
    // system jobs
    listSystemJobs,
    systemJobs,
    getSystemJob,
    awaitSystemJob,
    createSystemJob: (request: SystemJob.SystemJobRequest) =>
      call("createSystemJob", raw.systemJobs.create({ payload: request })),
    deleteDatasetFromProfile: (datasetId: string) =>
      call("createSystemJob", raw.systemJobs.create({ payload: { dataSetId: datasetId } })),
    deleteBatchFromProfile: (datasetId: string, batchId: string) =>
      call("createSystemJob", raw.systemJobs.create({ payload: { datasetId, batchId } })),
    deleteSystemJob: (id: string) => call("deleteSystemJob", raw.systemJobs.delete({ path: { ID: id } })),
    // edge destinations
    listDestinations: () => call("listDestinations", raw.destinations.list()),
    getDestination: (id: string) => call("getDestination", raw.destinations.get({ path: { destinationId: id } })),
    createDestination: (input: EdgeProjection.DestinationInput) =>
      call("createDestination", raw.destinations.create({ payload: input })),
    replaceDestination: (id: string, input: EdgeProjection.DestinationInput) =>
      call("replaceDestination", raw.destinations.replace({ path: { destinationId: id }, payload: input })),
    deleteDestination: (id: string) =>
      call("deleteDestination", raw.destinations.delete({ path: { destinationId: id } })),
    // edge projections
    listProjections: (query: { readonly schemaName?: string; readonly name?: string } = {}) =>
      call("listProjections", raw.projections.list({ urlParams: query })),
    getProjection: (id: string) => call("getProjection", raw.projections.get({ path: { projectionId: id } })),
    createProjection: (schemaName: string, input: EdgeProjection.ProjectionInput) =>
      call("createProjection", raw.projections.create({ urlParams: { schemaName }, payload: input })),
    replaceProjection: (id: string, input: EdgeProjection.ProjectionInput) =>
      call("replaceProjection", raw.projections.replace({ path: { projectionId: id }, payload: input })),
    deleteProjection: (id: string) => call("deleteProjection", raw.projections.delete({ path: { projectionId: id } }))
  }
})

export interface ProfileClientService extends Effect.Effect.Success<typeof makeProfileClient> {}

export class ProfileClient extends Context.Tag("@rtcp/core/ProfileClient")<ProfileClient, ProfileClientService>() {}

export const make: Effect.Effect<
  ProfileClientService,
  never,
  HttpClient.HttpClient | AccessToken.AccessToken | Platform
> = makeProfileClient

/** Needs an `HttpClient` (the app's platform layer), an `AccessToken` and the `Platform` settings. */
export const layer: Layer.Layer<ProfileClient, never, HttpClient.HttpClient | AccessToken.AccessToken | Platform> =
  Layer.effect(ProfileClient, make)

/** Everything from the `AEP_*` variables; only the platform's `HttpClient` is left to provide. */
export const layerConfig: Layer.Layer<ProfileClient | Platform | AccessToken.AccessToken, ConfigError.ConfigError, HttpClient.HttpClient> =
  Layer.unwrapEffect(
    Effect.map(AepConfig.config, ({ credentials, settings }) =>
      Layer.provideMerge(layer, Layer.merge(AccessToken.layerCredentials(credentials, settings.imsUrl), Platform.layer(settings)))
    )
  )

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

// The only place a token leaves its Redacted wrapper: the header itself,
// whose name (`authorization`) `Headers.currentRedactedNames` masks in logs
// and traces by default, as it does `x-api-key`.
const bearerValue = (token: Redacted.Redacted<string>) => Redacted.value(token)

const firstEntity = (
  answer: typeof Entity.EntityLookupResult.Type,
  identity: Identity.Identity
): Effect.Effect<Entity.ProfileEntity, ProfileError> => {
  if ("children" in answer && Array.isArray(answer.children)) {
    return Effect.fail(new NotFound({ status: 200, message: "expected a profile, got an event page" }))
  }
  const entities = Object.values(answer as Entity.ProfileEntities)
  return entities.length > 0
    ? Effect.succeed(entities[0]!)
    : Effect.fail(new NotFound({ status: 404, message: `no profile for ${Identity.key(identity)}` }))
}

const asEventPage = (answer: typeof Entity.EntityLookupResult.Type): Effect.Effect<Entity.EventPage, ProfileError> =>
  "children" in answer && "_page" in answer
    ? Effect.succeed(answer as Entity.EventPage)
    : Effect.fail(new NotFound({ status: 200, message: "expected an event page, got a profile map" }))

/**
 * A `_links.next.href` holds the next page's query (`/entities?start=…`,
 * `@/mergePolicies?start=…`); an empty href ends the list.
 */
const nextQuery = <A>(
  href: string | undefined,
  schema: Schema.Schema<A, any>
): Effect.Effect<Option.Option<A>, ProfileError> => {
  if (href === undefined || href === "") return Effect.succeed(Option.none())
  const params = new URL(href.replace(/^@/, ""), "http://next.invalid").searchParams
  const record: Record<string, string | Array<string>> = {}
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key).filter((value) => value !== "")
    if (values.length === 0) continue
    record[key] = values.length === 1 ? values[0]! : values
  }
  return Schema.decodeUnknown(schema)(record).pipe(
    Effect.map(Option.some),
    Effect.mapError(normalizeError)
  )
}

