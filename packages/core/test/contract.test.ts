/**
 * Contract tests: the ProfileClient against a real in-process server built
 * from the same `ProfileApi` contract (see support/profileServer.ts), plus
 * Adobe's documented example bodies checked against the contract's schemas.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  AccessToken,
  ComputedAttribute,
  EdgeProjection,
  Entity,
  ExportJob,
  Identity,
  ImsToken,
  MergePolicy,
  Platform,
  PreviewSampleStatus,
  ProfileClient,
  ProfileError,
  Retry,
  SystemJob
} from "@rtcp/core"
import { Chunk, Duration, Effect, Layer, Redacted, Schema, Stream } from "effect"
import { drive } from "./support/clock.js"
import { fakeTransport, json, queue, staticLayer } from "./support/fakeTransport.js"
import { fixture } from "./support/fixtures.js"
import {
  credentials,
  eventsPage3Cursor,
  exportJobsOffset,
  madeUp,
  makeProfileServer,
  mergePolicyCursor,
  type Received,
  tooManyIdentitiesBody,
  trouble
} from "./support/profileServer.js"

const server = makeProfileServer()

const settings: Platform.PlatformSettings = {
  // The HttpClient of NodeHttpServer.layerTest already prefixes the server's URL.
  platformUrl: "",
  imsUrl: "",
  orgId: "1BD6382559DF0C130A49422D@AdobeOrg",
  apiKey: credentials.clientId,
  sandbox: "prod"
}

const oauth: AccessToken.OAuthOptions = {
  clientId: credentials.clientId,
  clientSecret: Redacted.make(credentials.clientSecret),
  scopes: "openid,AdobeID,read_organizations",
  imsUrl: ""
}

const ClientLive = ProfileClient.layer.pipe(
  Layer.provideMerge(Layer.merge(Platform.layer(settings), AccessToken.layerOAuth(oauth))),
  Layer.provideMerge(server.layer)
)

/** The query string as a record; repeated names become arrays. */
const queryOf = (request: Received): Record<string, string | Array<string>> => {
  const out: Record<string, string | Array<string>> = {}
  for (const name of new Set(request.query.keys())) {
    const values = request.query.getAll(name)
    out[name] = values.length === 1 ? values[0]! : values
  }
  return out
}

/** The one request `endpoint` received since the last reset. */
const only = (endpoint: string): Received => {
  const requests = server.receivedBy(endpoint)
  expect(requests.map((request) => request.endpoint)).toEqual([endpoint])
  return requests[0]!
}

const client = Effect.tap(ProfileClient.ProfileClient, () => Effect.sync(server.reset))

const jane = Identity.make("email", "janedoe@example.com")
const noRetries = Effect.provideService(Retry.CurrentRetryPolicy, Retry.none)

it.layer(ClientLive, { timeout: 30_000 })("ProfileClient ⇄ contract server", (it) => {
  describe("entities", () => {
    it.effect("getProfile: GET /access/entities with schema.name, entityId, entityIdNS; unknown fields survive", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const profile = yield* profiles.getProfile(jane, {
          fields: ["identities", "person.name"],
          mergePolicyId: "e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2",
          withCA: true
        })
        const request = only("entities.get")
        expect(request.method).toBe("GET")
        expect(request.path).toBe("/data/core/ups/access/entities")
        expect(queryOf(request)).toEqual({
          "schema.name": "_xdm.context.profile",
          entityId: "janedoe@example.com",
          entityIdNS: "email",
          fields: "identities,person.name",
          mergePolicyId: "e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2",
          withCA: "true"
        })
        expect(profile.entityId).toBe("BVrqzwVv7o2p3naHvnsWpqZXv3KJgA")
        expect(profile.sources).toEqual(["1000000000"])
        expect((profile.entity as any).person.name.firstName).toBe("Jane")
        expect((profile.entity as any).identities).toHaveLength(6)
        // A field of the entity no schema names, and one inside the XDM body:
        expect((profile as any).madeUpField).toEqual(madeUp.madeUpField)
        expect((profile.entity as any)._acmecorp).toEqual({ loyalty: { tier: "gold" } })
      })
    )

    it.effect("getProfile of an XID sends no entityIdNS", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        yield* profiles.getProfile(Identity.xid("BVrqzwVv7o2p3naHvnsWpqZXv3KJgA"))
        expect(queryOf(only("entities.get"))).toEqual({
          "schema.name": "_xdm.context.profile",
          entityId: "BVrqzwVv7o2p3naHvnsWpqZXv3KJgA"
        })
      })
    )

    it.effect("getProfiles: POST /access/entities with the identities; Adobe's answer decodes", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const ecid = (id: string) => Identity.make("ECID", id)
        const answer = yield* profiles.getProfiles(
          [
            ecid("89149270342662559642753730269986316601"),
            ecid("89149270342662559642753730269986316900"),
            ecid("89149270342662559642753730269986316602")
          ],
          { fields: ["identities", "person.name", "workEmail"], withCA: true }
        )
        const request = only("entities.post")
        expect(request.method).toBe("POST")
        expect(request.path).toBe("/data/core/ups/access/entities")
        expect(request.headers["content-type"]).toBe("application/json")
        const body = request.payload as Record<string, unknown>
        expect(body["identities"]).toEqual(fixture("entities/post-request-profiles.json").identities)
        expect(body["fields"]).toEqual(["identities", "person.name", "workEmail"])
        expect(body["withCA"]).toBe(true)
        expect(Object.keys(answer)).toEqual(Object.keys(fixture("entities/post-profiles.json")))
        expect(answer["A29cgveD5y64e2RixjUXNzcm"]!.entity).toEqual({})
      })
    )

    // BUG (src/Entity.ts EntitiesRequest + src/ProfileClient.ts getProfiles): Adobe's POST
    // /access/entities body names the schema as a nested object, `"schema": {"name": …}` (and
    // `"relatedSchema": {"name": …}`), in the guide (fixtures/entities/post-request-*.json) and in the
    // OpenAPI document (PostRequestBodyEntity.schema: SchemaEntity). The contract instead requires a
    // top-level key literally named "schema.name", and getProfiles sends it, so Platform would not see
    // the schema, and the local service rejects Adobe's documented bodies. Fix: in EntitiesRequest use
    // `schema: open({ name: Schema.String })` and `relatedSchema: Schema.optional(open({ name:
    // Schema.String }))`; in getProfiles send `schema: { name: options.schemaName ?? SchemaName.profile }`.
    // Remove `.fails` once fixed.
    it.effect("getProfiles sends the schema as Adobe documents it: schema: { name }", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        yield* profiles.getProfiles([jane])
        const body = only("entities.post").payload as Record<string, unknown>
        expect(body["schema"]).toEqual({ name: "_xdm.context.profile" })
        expect(body["schema.name"]).toBeUndefined()
      })
    )

    it.effect("getExperienceEvents: GET with the related entity, time range, orderby and repeated property", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const page = yield* profiles.getExperienceEvents(Identity.make("ECID", "89149270342662559642753730269986316900"), {
          fields: ["endUserIDs", "web", "channel"],
          startTime: 1531260476000,
          endTime: 1531260480000,
          limit: 1,
          orderby: "+timestamp",
          property: ["web.webPageDetails.name=Fernie Snow", "channel._type=web"]
        })
        const request = only("entities.get")
        expect(request.path).toBe("/data/core/ups/access/entities")
        expect(queryOf(request)).toEqual({
          "schema.name": "_xdm.context.experienceevent",
          "relatedSchema.name": "_xdm.context.profile",
          relatedEntityId: "89149270342662559642753730269986316900",
          relatedEntityIdNS: "ECID",
          fields: "endUserIDs,web,channel",
          startTime: "1531260476000",
          endTime: "1531260480000",
          limit: "1",
          orderby: "+timestamp",
          property: ["web.webPageDetails.name=Fernie Snow", "channel._type=web"]
        })
        expect(request.urlParams).toMatchObject({ property: ["web.webPageDetails.name=Fernie Snow", "channel._type=web"] })
        expect(page.children.map((event) => event.entityId)).toEqual(["c8d11988-6b56-4571-a123-b6ce74236036"])
        expect(page._links.next?.href).toContain("start=c8d11988-6b56-4571-a123-b6ce74236037")
      })
    )

    it.effect("experienceEvents streams every event of 3 pages once, following _links.next.href", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const events = yield* Stream.runCollect(
          profiles.experienceEvents(Identity.make("ECID", "89149270342662559642753730269986316900"), { limit: 1 })
        )
        expect(Chunk.toReadonlyArray(events).map((event) => event.entityId)).toEqual([
          "c8d11988-6b56-4571-a123-b6ce74236036",
          "c8d11988-6b56-4571-a123-b6ce74236037",
          eventsPage3Cursor
        ])
        const requests = server.receivedBy("entities.get")
        expect(requests).toHaveLength(3)
        expect(requests.map((request) => request.query.get("start"))).toEqual([
          null,
          "c8d11988-6b56-4571-a123-b6ce74236037",
          eventsPage3Cursor
        ])
        // The continuation is the query of the href, as Adobe wrote it.
        expect(queryOf(requests[1]!)).toMatchObject({
          "schema.name": "_xdm.context.experienceevent",
          "relatedSchema.name": "_xdm.context.profile",
          relatedEntityIdNS: "ECID",
          fields: "endUserIDs,web,channel",
          orderby: "timestamp",
          limit: "1"
        })
      })
    )

    it.effect("getEntities: the raw POST body goes out as given and events pages decode", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const answer = yield* profiles.getEntities({
          schema: { name: Entity.SchemaName.experienceEvent },
          relatedSchema: { name: Entity.SchemaName.profile },
          identities: [{ relatedEntityId: "GkouAW-yD9aoRCPhRYROJ-TetAFW" }, { relatedEntityId: "GkouAW-2u-7iWt5vQ9u2wm40JOZY" }],
          fields: ["endUserIDs", "placeContext.localTime", "placeContext.geo.countryCode"],
          timeFilter: { startTime: 1539838505, endTime: 1539838510 },
          limit: 10
        })
        const request = only("entities.post")
        expect((request.payload as any).timeFilter).toEqual({ startTime: 1539838505, endTime: 1539838510 })
        expect((request.payload as any).limit).toBe(10)
        const first = (answer as Record<string, unknown>)["GkouAW-yD9aoRCPhRYROJ-TetAFW"] as Entity.EventPage
        expect(first.children).toHaveLength(2)
        expect(first._links.next?.payload).toEqual(fixture("entities/post-events.json")["GkouAW-yD9aoRCPhRYROJ-TetAFW"]._links.next.payload)
      })
    )

    it.effect("deleteEntity: DELETE /access/entities with the identity; 202 → void", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const result = yield* profiles.deleteEntity(jane, { mergePolicyId: "mp-1" })
        const request = only("entities.delete")
        expect(request.method).toBe("DELETE")
        expect(queryOf(request)).toEqual({
          "schema.name": "_xdm.context.profile",
          entityId: "janedoe@example.com",
          entityIdNS: "email",
          mergePolicyId: "mp-1"
        })
        expect(result).toBeUndefined()
      })
    )

    // BUG (src/ProfileClient.ts deleteEntity): the contract declares DELETE /access/entities 207
    // ("Failed to delete records with some IDs", OAS) but deleteEntity pipes the answer through
    // Effect.asVoid, so a partial failure reads as success and the caller believes the data is gone.
    // Fix: as getProfiles does, fail when the answer is an array, e.g.
    // `Effect.flatMap((answer) => Array.isArray(answer) ? Effect.fail(new Unprocessable({ status: 207,
    // message: "some records could not be deleted", body: answer })) : Effect.void)`.
    // Remove `.fails` once fixed.
    it.effect("deleteEntity: a 207 (some records not deleted) is an error", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const result = yield* Effect.either(profiles.deleteEntity(Identity.make("email", trouble.partialEntity)))
        expect(result._tag).toBe("Left")
        if (result._tag === "Left") {
          expect(result.left.status).toBe(207)
          expect(result.left.body).toEqual(fixture("entities/error-207.json"))
        }
      })
    )
  })

  describe("merge policies", () => {
    const input = fixture<MergePolicy.MergePolicyInput>("merge-policies/create-request.json")

    it.effect("listMergePolicies: GET /config/mergePolicies with its filters", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const page = yield* profiles.listMergePolicies({
          "schema.name": "_xdm.context.profile",
          default: true,
          limit: 2,
          orderby: "-updateEpoch"
        })
        const request = only("mergePolicies.list")
        expect(request.method).toBe("GET")
        expect(request.path).toBe("/data/core/ups/config/mergePolicies")
        expect(queryOf(request)).toEqual({
          "schema.name": "_xdm.context.profile",
          default: "true",
          limit: "2",
          orderby: "-updateEpoch"
        })
        expect(page.children.map((policy) => policy.name)).toEqual([
          "Profile Default Merge Policy",
          "Dataset Precedence Merge Policy"
        ])
      })
    )

    it.effect("mergePolicies streams every page following _links.next.href (cursor sent back intact)", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const policies = yield* Stream.runCollect(profiles.mergePolicies({ limit: 2 }))
        expect(Chunk.toReadonlyArray(policies).map((policy) => policy.id)).toEqual([
          "0bf16e61-90e9-4204-b8fa-ad250360957b",
          "42d4a596-b1c6-46c0-994e-ca5ef1f85130",
          "e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2"
        ])
        const requests = server.receivedBy("mergePolicies.list")
        expect(requests).toHaveLength(2)
        expect(requests[1]!.query.get("start")).toBe(mergePolicyCursor())
        expect(requests[1]!.query.get("limit")).toBe("2")
      })
    )

    it.effect("getMergePolicy: GET /config/mergePolicies/{id}; unknown fields survive", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const policy = yield* profiles.getMergePolicy("e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
        const request = only("mergePolicies.get")
        expect(request.method).toBe("GET")
        expect(request.path).toBe("/data/core/ups/config/mergePolicies/e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
        expect(request.pathParams).toEqual({ mergePolicyId: "e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2" })
        expect(policy.attributeMerge.order).toEqual(["5b76f86b85d0e00000be5c8b", "5b76f8d787a6af01e2ceda18"])
        expect((policy as any).madeUpField).toEqual(madeUp.madeUpField)
      })
    )

    // BUG (src/MergePolicy.ts MergePolicy): `name` is required, but Adobe's documented GET
    // /config/mergePolicies/{id} answer (fixtures/merge-policies/get.json, "Access a single merge policy
    // by ID") has no `name`: getMergePolicy fails with ResponseDecodeError on Adobe's own example.
    // Fix: `name: Schema.optional(Schema.String)`. Remove `.fails` once fixed.
    it.effect("getMergePolicy decodes Adobe's documented answer (no name, isActiveOnEdge \"false\")", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const policy = yield* profiles.getMergePolicy(trouble.documentedPolicy)
        expect(policy.id).toBe(trouble.documentedPolicy)
        expect(policy.isActiveOnEdge).toBe(false)
      })
    )

    it.effect("createMergePolicy: POST with the body; a made-up field survives the round trip", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const policy = yield* profiles.createMergePolicy({ ...input, ...madeUp } as MergePolicy.MergePolicyInput)
        const request = only("mergePolicies.create")
        expect(request.method).toBe("POST")
        expect(request.path).toBe("/data/core/ups/config/mergePolicies")
        expect(request.headers["content-type"]).toBe("application/json")
        expect(request.payload).toEqual({ ...input, ...madeUp })
        expect(policy.id).toBe("e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
        expect((policy as any).madeUpField).toEqual(madeUp.madeUpField)
      })
    )

    it.effect("replaceMergePolicy: PUT /config/mergePolicies/{id}", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const put = fixture("merge-policies/put-request.json")
        const policy = yield* profiles.replaceMergePolicy("e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2", put)
        const request = only("mergePolicies.replace")
        expect(request.method).toBe("PUT")
        expect(request.path).toBe("/data/core/ups/config/mergePolicies/e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
        expect(request.payload).toEqual(put)
        expect(policy.updateEpoch).toBe(1551898378)
      })
    )

    it.effect("patchMergePolicy: PATCH with a JSON Patch array (Adobe's single object is wrapped)", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const policy = yield* profiles.patchMergePolicy(
          "e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2",
          fixture("merge-policies/patch-request.json")
        )
        const request = only("mergePolicies.patch")
        expect(request.method).toBe("PATCH")
        expect(request.path).toBe("/data/core/ups/config/mergePolicies/e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
        expect(request.payload).toEqual([fixture("merge-policies/patch-request.json")])
        expect(policy.default).toBe(true)
      })
    )

    it.effect("deleteMergePolicy: DELETE /config/mergePolicies/{id}", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        yield* profiles.deleteMergePolicy("e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
        const request = only("mergePolicies.delete")
        expect(request.method).toBe("DELETE")
        expect(request.path).toBe("/data/core/ups/config/mergePolicies/e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
      })
    )

    it.effect("bulkGetMergePolicies: POST bulk-get with {ids:[{id}]}; the 207 answer decodes", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const result = yield* profiles.bulkGetMergePolicies([
          "0bf16e61-90e9-4204-b8fa-ad250360957b",
          "42d4a596-b1c6-46c0-994e-ca5ef1f85130"
        ])
        const request = only("mergePolicies.bulkGet")
        expect(request.method).toBe("POST")
        expect(request.path).toBe("/data/core/ups/config/mergePolicies/bulk-get")
        expect(request.payload).toEqual(fixture("merge-policies/bulk-get-request.json"))
        expect(result.results["42d4a596-b1c6-46c0-994e-ca5ef1f85130"]!.identityGraph.type).toBe("pdg")
      })
    )
  })

  describe("computed attributes", () => {
    it.effect("listComputedAttributes: GET /data/core/ca/attributes with limit, offset, property", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const page = yield* profiles.listComputedAttributes({
          limit: 20,
          offset: 0,
          property: ["status==DRAFT", "keepCurrent==false"]
        })
        const request = only("computedAttributes.list")
        expect(request.path).toBe("/data/core/ca/attributes")
        expect(queryOf(request)).toEqual({ limit: "20", offset: "0", property: ["status==DRAFT", "keepCurrent==false"] })
        expect(page.computedAttributes).toHaveLength(3)
        expect(page._page.totalCount).toBe(3)
      })
    )

    it.effect("computedAttributes streams every page by offset", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const all = yield* Stream.runCollect(profiles.computedAttributes({ limit: 2 }))
        expect(Chunk.toReadonlyArray(all).map((attribute) => attribute.name)).toEqual([
          "multipleFilterClauses19",
          "multipleFilterClauses20",
          "multipleFilterClauses18"
        ])
        expect(server.receivedBy("computedAttributes.list").map((request) => request.query.get("offset"))).toEqual([
          "0",
          "2"
        ])
      })
    )

    it.effect("get, create, patch and delete a computed attribute", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const id = "1e8d0d77-b2bb-4b17-bbe6-2dbc08c1a631"
        const got = yield* profiles.getComputedAttribute(id)
        expect(got.mergeFunction?.value).toBe("SUM")
        const createRequest = fixture("computed-attributes/create-request.json")
        const created = yield* profiles.createComputedAttribute(createRequest)
        expect(created.status).toBe("DRAFT")
        const patched = yield* profiles.patchComputedAttribute(id, fixture("computed-attributes/patch-request.json"))
        expect(patched.status).toBe("NEW")
        const deleted = yield* profiles.deleteComputedAttribute("03ae581b-5f7b-48da-a9eb-4ef0daf4bc3c")
        expect(deleted.name).toBe("testdemopd2")
        expect(server.received.map((request) => `${request.method} ${request.path}`)).toEqual([
          `GET /data/core/ca/attributes/${id}`,
          "POST /data/core/ca/attributes",
          `PATCH /data/core/ca/attributes/${id}`,
          "DELETE /data/core/ca/attributes/03ae581b-5f7b-48da-a9eb-4ef0daf4bc3c"
        ])
        expect(server.receivedBy("computedAttributes.create")[0]!.payload).toEqual(createRequest)
        expect(server.receivedBy("computedAttributes.patch")[0]!.payload).toEqual(
          fixture("computed-attributes/patch-request.json")
        )
      })
    )
  })

  describe("export jobs", () => {
    it.effect("listExportJobs, createExportJob, getExportJob, cancelExportJob on the wire", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const page = yield* profiles.listExportJobs({ limit: 2 })
        expect(page.records.map((job) => job.id)).toEqual([726, 722])
        const created = yield* profiles.createExportJob(fixture("export-jobs/create-request.json"))
        expect(created.status).toBe("NEW")
        expect(created.destination?.dataSetId).toBe("5cf6bcf79ecc7c14530fe436")
        const job = yield* profiles.getExportJob(24115)
        expect(job.metrics?.totalTime?.totalTimeInMs).toBe(1204365)
        yield* profiles.cancelExportJob(24115)
        expect(server.received.map((request) => `${request.method} ${request.path}`)).toEqual([
          "GET /data/core/ups/export/jobs",
          "POST /data/core/ups/export/jobs",
          "GET /data/core/ups/export/jobs/24115",
          "DELETE /data/core/ups/export/jobs/24115"
        ])
        expect(queryOf(server.received[0]!)).toEqual({ limit: "2" })
        expect(server.received[1]!.payload).toEqual(fixture("export-jobs/create-request.json"))
        expect(server.received[2]!.pathParams).toEqual({ exportJobId: 24115 })
      })
    )

    it.effect("exportJobs streams every page following link.next's offset", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const jobs = yield* Stream.runCollect(profiles.exportJobs({ limit: 2 }))
        expect(Chunk.toReadonlyArray(jobs).map((job) => job.id)).toEqual([726, 722, 24115])
        expect(server.receivedBy("exportJobs.list").map((request) => request.query.get("offset"))).toEqual([
          null,
          exportJobsOffset
        ])
      })
    )
  })

  describe("preview sample status", () => {
    it.effect("every report on its path, with date when given", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const status = yield* profiles.getSampleStatus()
        expect(status.totalFragmentCount).toBe(47429)
        expect(status.cosmosDocCount).toBe('"300803"')
        const datasets = yield* profiles.getDatasetReport("2020-08-01")
        expect(datasets.data).toHaveLength(3)
        const namespaces = yield* profiles.getNamespaceReport()
        expect(namespaces.data.map((item) => item.code)).toEqual(["Email", "ECID", "AAID", "Phone"])
        const datasetOverlap = yield* profiles.getDatasetOverlapReport("2021-12-29")
        expect(datasetOverlap.data["5eeda0032af7bb19162172a7"]).toBe(107)
        const namespaceOverlap = yield* profiles.getNamespaceOverlapReport()
        expect(namespaceOverlap.data["ECID"]).toBe(6565)
        const unstitched = yield* profiles.getUnstitchedProfilesReport()
        expect(unstitched.data.unstitchedProfiles?.["7days"]?.countOfProfiles).toBe(1782)
        expect(server.received.map((request) => `${request.method} ${request.path}${request.query.size ? `?${request.query}` : ""}`)).toEqual([
          "GET /data/core/ups/previewsamplestatus",
          "GET /data/core/ups/previewsamplestatus/report/dataset?date=2020-08-01",
          "GET /data/core/ups/previewsamplestatus/report/namespace",
          "GET /data/core/ups/previewsamplestatus/report/dataset/overlap?date=2021-12-29",
          "GET /data/core/ups/previewsamplestatus/report/namespace/overlap",
          "GET /data/core/ups/previewsamplestatus/report/unstitchedProfiles"
        ])
      })
    )
  })

  describe("system jobs", () => {
    it.effect("listSystemJobs, create (dataset, batch), get, await and delete on the wire", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const page = yield* profiles.listSystemJobs({ limit: 2 })
        expect(page.children.map(SystemJob.jobId)).toEqual([
          "80a9405a-21ca-4278-aedf-99367f90c055",
          "38a835eb-b491-4864-902b-be07fa4d6a6d"
        ])
        const dataset = yield* profiles.deleteDatasetFromProfile("66a92c5910df2d1767de13f3")
        expect(dataset.requestType).toBe("TRUNCATE_DATASET")
        const batch = yield* profiles.deleteBatchFromProfile("66a92c5910df2d1767de13f3", "01JFSYFDFW9JAAEKHX672JMPSB")
        expect(batch.requestType).toBe("DELETE_EE_BATCH")
        const generic = yield* profiles.createSystemJob(fixture("system-jobs/create-dataset-request.json"))
        expect(SystemJob.jobId(generic)).toBe("80a9405a-21ca-4278-aedf-99367f90c055")
        const job = yield* profiles.getSystemJob("9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4")
        expect(job.status).toBe("SUCCESS")
        yield* profiles.awaitSystemJob("9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4")
        yield* profiles.deleteSystemJob("9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4")
        expect(server.received.map((request) => `${request.method} ${request.path}`)).toEqual([
          "GET /data/core/ups/system/jobs",
          "POST /data/core/ups/system/jobs",
          "POST /data/core/ups/system/jobs",
          "POST /data/core/ups/system/jobs",
          "GET /data/core/ups/system/jobs/9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4",
          "GET /data/core/ups/system/jobs/9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4",
          "DELETE /data/core/ups/system/jobs/9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4"
        ])
        expect(queryOf(server.received[0]!)).toEqual({ limit: "2" })
        expect(server.received.slice(1, 4).map((request) => request.payload)).toEqual([
          { dataSetId: "66a92c5910df2d1767de13f3" },
          fixture("system-jobs/create-batch-request.json"),
          fixture("system-jobs/create-dataset-request.json")
        ])
      })
    )

    it.effect("awaitSystemJob returns the job in its terminal status", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        // Typed `unknown` today (Schedule.passthrough over Schedule.spaced has input unknown): read it as data.
        const done = (yield* profiles.awaitSystemJob("9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4")) as SystemJob.SystemJob
        expect(done).toMatchObject({ requestId: "9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4", status: "SUCCESS" })
        expect(SystemJob.terminalStatuses.has(done.status)).toBe(true)
      })
    )

    it.effect("systemJobs streams every page by page number (start=0, 1)", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const jobs = yield* Stream.runCollect(profiles.systemJobs({ limit: 2 }))
        expect(Chunk.toReadonlyArray(jobs).map(SystemJob.jobId)).toEqual([
          "80a9405a-21ca-4278-aedf-99367f90c055",
          "38a835eb-b491-4864-902b-be07fa4d6a6d",
          "9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4"
        ])
        expect(server.receivedBy("systemJobs.list").map((request) => request.query.get("start"))).toEqual(["0", "1"])
      })
    )
  })

  describe("edge destinations and projections", () => {
    it.effect("destinations: list, create, get, replace, delete with Adobe's vendor media types", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const list = yield* profiles.listDestinations()
        expect(list._embedded.projectionDestinations.map((destination) => destination.dataCenters)).toEqual([
          ["VA5"],
          ["OR1"]
        ])
        const created = yield* profiles.createDestination(fixture("projections/destination-create-request.json"))
        expect(created.self?.href).toBe("/data/core/ups/config/destinations/cc5a3bd1-f2b9-4965-b9bd-4e7416a02cd4")
        const got = yield* profiles.getDestination("cef0e2ef-5249-4e25-be90-94f5797a2841")
        expect(got.ttl).toBe(3600)
        const replaced = yield* profiles.replaceDestination(
          "8b90ce19-e7dd-403a-ae24-69683a6674e7",
          fixture("projections/destination-put-request.json")
        )
        expect(replaced.version).toBe(2)
        yield* profiles.deleteDestination("8b90ce19-e7dd-403a-ae24-69683a6674e7")
        expect(server.received.map((request) => `${request.method} ${request.path}`)).toEqual([
          "GET /data/core/ups/config/destinations",
          "POST /data/core/ups/config/destinations",
          "GET /data/core/ups/config/destinations/cef0e2ef-5249-4e25-be90-94f5797a2841",
          "PUT /data/core/ups/config/destinations/8b90ce19-e7dd-403a-ae24-69683a6674e7",
          "DELETE /data/core/ups/config/destinations/8b90ce19-e7dd-403a-ae24-69683a6674e7"
        ])
        expect(server.received[1]!.headers["content-type"]).toBe(EdgeProjection.MediaType.destination)
        expect(server.received[1]!.payload).toEqual(fixture("projections/destination-create-request.json"))
        expect(server.received[3]!.payload).toEqual(fixture("projections/destination-put-request.json"))
      })
    )

    it.effect("projections: list, create (schemaName query), get, replace, delete", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const list = yield* profiles.listProjections({ schemaName: "_xdm.context.profile", name: "adcloud_rlsa" })
        expect(list._embedded.projectionConfigs[0]!.selector).toBe("strategy")
        const created = yield* profiles.createProjection(
          "_xdm.context.profile",
          fixture("projections/projection-create-request.json")
        )
        expect(created._embedded?.destination?.ttl).toBe(1000)
        const id = "87fcd0bc-c183-4997-daf9-7843642g95a1"
        const got = yield* profiles.getProjection(id)
        expect(got.destinationId).toBe("cc5a3bd1-f2b9-4965-b9bd-4e7416a02cd4")
        const replaced = yield* profiles.replaceProjection(id, {
          ...fixture("projections/projection-create-request.json"),
          selector: "emails",
          currentVersion: 2
        })
        expect(replaced.selector).toBe("emails")
        yield* profiles.deleteProjection(id)
        expect(server.received.map((request) => `${request.method} ${request.path}`)).toEqual([
          "GET /data/core/ups/config/projections",
          "POST /data/core/ups/config/projections",
          `GET /data/core/ups/config/projections/${id}`,
          `PUT /data/core/ups/config/projections/${id}`,
          `DELETE /data/core/ups/config/projections/${id}`
        ])
        expect(queryOf(server.received[0]!)).toEqual({ schemaName: "_xdm.context.profile", name: "adcloud_rlsa" })
        expect(queryOf(server.received[1]!)).toEqual({ schemaName: "_xdm.context.profile" })
        expect(server.received[1]!.headers["content-type"]).toBe(EdgeProjection.MediaType.projection)
        expect(server.received[1]!.payload).toEqual(fixture("projections/projection-create-request.json"))
      })
    )
  })

  describe("headers and the gateway", () => {
    it.effect("every Platform request carries the IMS token, API key, org, sandbox and a fresh request id", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        yield* profiles.getProfile(jane)
        yield* profiles.listMergePolicies()
        yield* profiles.getSampleStatus().pipe(Platform.withSandbox("dev"))
        const platform = server.received
        expect(platform).toHaveLength(3)
        for (const request of platform) {
          const token = request.headers["authorization"]!.replace(/^Bearer /, "")
          expect(server.issuedTokens).toContain(token)
          expect(request.headers["x-api-key"]).toBe(credentials.clientId)
          expect(request.headers["x-gw-ims-org-id"]).toBe("1BD6382559DF0C130A49422D@AdobeOrg")
          expect(request.context?.imsOrgId).toBe("1BD6382559DF0C130A49422D@AdobeOrg")
          expect(request.context?.requestId).toBe(request.headers["x-request-id"])
        }
        expect(platform.map((request) => request.context?.sandboxName)).toEqual(["prod", "prod", "dev"])
        expect(new Set(platform.map((request) => request.headers["x-request-id"])).size).toBe(3)
      })
    )

    it.effect("the IMS token request reached the ims group as a form with the credential", () =>
      Effect.gen(function* () {
        // A fresh OAuth layer over the same server: its first call asks IMS.
        const tokens = server.issuedTokens.length
        const token = yield* Effect.flatMap(AccessToken.AccessToken, (service) => service.get).pipe(
          Effect.provide(AccessToken.layerOAuth(oauth))
        )
        expect(server.issuedTokens).toHaveLength(tokens + 1)
        expect(Redacted.value(token)).toBe(server.issuedTokens.at(-1))
        const request = server.receivedBy("ims.token").at(-1)!
        expect(request.method).toBe("POST")
        expect(request.path).toBe("/ims/token/v3")
        expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded")
        const payload = request.payload as ImsToken.TokenRequest
        expect(payload.grant_type).toBe("client_credentials")
        expect(payload.client_id).toBe(credentials.clientId)
        expect(Redacted.value(payload.client_secret)).toBe(credentials.clientSecret)
        expect(payload.scope).toBe("openid,AdobeID,read_organizations")
      })
    )

    it.effect("IMS rejecting the secret → Unauthorized with IMS's body", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flatMap(AccessToken.AccessToken, (service) => service.get).pipe(
          Effect.provide(AccessToken.layerOAuth({ ...oauth, clientSecret: Redacted.make("wrong") })),
          Effect.flip
        )
        expect(error._tag).toBe("Unauthorized")
        expect(error.body).toEqual({ error: "invalid_client", error_description: "invalid client credentials" })
      })
    )

    it.effect("a wrong API key → Forbidden with the gateway's 403003 body", () =>
      Effect.gen(function* () {
        const profiles = yield* ProfileClient.make.pipe(
          Effect.provideService(Platform.Platform, { ...settings, apiKey: "someone-else" })
        )
        const error = yield* Effect.flip(profiles.getProfile(jane))
        expect(error._tag).toBe("Forbidden")
        expect(error.body).toEqual(fixture("gateway/api-key-invalid-403003.json"))
      })
    )

    it.effect("a token the gateway never issued → Unauthorized with the 401013 body", () =>
      Effect.gen(function* () {
        const profiles = yield* ProfileClient.make.pipe(
          Effect.provide(AccessToken.layerStatic(Redacted.make("forged")))
        )
        const error = yield* Effect.flip(profiles.getProfile(jane))
        expect(error._tag).toBe("Unauthorized")
        expect(error.body).toEqual(fixture("gateway/oauth-token-invalid-401013.json"))
      })
    )
  })

  describe("error statuses reach the client as the same tag with the same body", () => {
    const expectError = (
      error: ProfileError.ProfileError,
      tag: ProfileError.ProfileError["_tag"],
      status: number,
      body: unknown
    ) => {
      expect(error._tag).toBe(tag)
      expect(error.status).toBe(status)
      expect(error.body).toEqual(body)
      expect(error.requestId).toBe(server.received.at(-1)!.headers["x-request-id"])
    }

    it.effect("404 NotFound (Adobe's NotFoundError body)", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const error = yield* Effect.flip(profiles.getProfile(Identity.make("email", trouble.missingEntity)))
        expectError(error, "NotFound", 404, fixture("entities/error-404.json"))
        const policy = yield* Effect.flip(profiles.getMergePolicy(trouble.missingId))
        expectError(policy, "NotFound", 404, fixture("entities/error-404.json"))
        const report = yield* Effect.flip(profiles.getNamespaceReport(trouble.missingReportDate))
        expectError(report, "NotFound", 404, fixture("entities/error-404.json"))
      })
    )

    it.effect("422 TooManyRelatedIdentities and 400 BadRequest", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const tangled = yield* Effect.flip(profiles.getProfile(Identity.make("email", trouble.tangledEntity)))
        expectError(tangled, "TooManyRelatedIdentities", 422, tooManyIdentitiesBody)
        const invalid = yield* Effect.flip(profiles.getProfile(Identity.make("email", trouble.invalidEntity)))
        expectError(invalid, "BadRequest", 400, fixture("entities/error-400.json"))
      })
    )

    it.effect("422 Unprocessable, 429 RateLimited (retryAfter from the body) and 500 ServerError", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const record = yield* Effect.flip(profiles.createSystemJob({ dataSetId: trouble.recordDataset }))
        expectError(record, "Unprocessable", 422, fixture("system-jobs/error-422.json"))
        const busy = yield* Effect.flip(profiles.createSystemJob({ dataSetId: trouble.rateLimitedDataset }))
        expectError(busy, "RateLimited", 429, fixture("entities/error-429.json"))
        expect(busy._tag === "RateLimited" && busy.retryAfter && Duration.toMillis(busy.retryAfter)).toBe(500)
        const broken = yield* Effect.flip(profiles.createSystemJob({ dataSetId: trouble.brokenDataset }))
        expectError(broken, "ServerError", 500, fixture("entities/error-500.json"))
        // POSTs that create are not retried: one request each.
        expect(server.receivedBy("systemJobs.create")).toHaveLength(3)
      }).pipe(noRetries)
    )

    it.effect("207 from POST /access/entities → NotFound with Adobe's ErrorResponseById body", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const error = yield* Effect.flip(profiles.getProfiles([Identity.make("email", trouble.partialEntity)]))
        expect(error._tag).toBe("NotFound")
        expect(error.status).toBe(207)
        expect(error.body).toEqual(fixture("entities/error-207.json"))
      })
    )

    it.effect("callers can catchTag across the wire", () =>
      Effect.gen(function* () {
        const profiles = yield* client
        const answer = yield* profiles.getSystemJob(trouble.missingId).pipe(
          Effect.map((job) => job.status),
          Effect.catchTag("NotFound", () => Effect.succeed("gone"))
        )
        expect(answer).toBe("gone")
      })
    )
  })
})

describe("awaitSystemJob polling (fake transport, TestClock)", () => {
  it.effect("polls GET /system/jobs/{ID} every `every` until a terminal status", () =>
    Effect.gen(function* () {
      const job = (status: string) => json(200, { ...fixture<Record<string, unknown>>("system-jobs/get.json"), status })
      const transport = fakeTransport(queue(job("NEW"), job("PROCESSING"), job("SUCCESS")))
      const delays: Array<number> = []
      yield* drive(
        Effect.flatMap(ProfileClient.ProfileClient, (profiles) =>
          profiles.awaitSystemJob("9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4", { every: "2 seconds" })
        ).pipe(Effect.provide(staticLayer(transport))),
        delays
      )
      expect(transport.requests.map((request) => `${request.method} ${request.path}`)).toEqual(
        Array(3).fill("GET /data/core/ups/system/jobs/9c2018e2-cd04-46a4-b38e-89ef7b1fcdf4")
      )
      expect(delays).toEqual([2_000, 2_000])
    })
  )
})

// ---------------------------------------------------------------------------
// Adobe's documented bodies against the contract's schemas
// ---------------------------------------------------------------------------

const documented: ReadonlyArray<readonly [string, Schema.Schema<any, any>]> = [
  ["entities/get-profile.json", Entity.EntityLookupResult],
  ["entities/get-events.json", Entity.EntityLookupResult],
  ["entities/get-events-last-page.json", Entity.EntityLookupResult],
  ["entities/post-profiles.json", Entity.EntitiesResult],
  ["entities/post-events.json", Entity.EntitiesResult],
  ["entities/error-207.json", Entity.PartialFailure],
  ["merge-policies/list.json", MergePolicy.MergePolicyList],
  ["merge-policies/create-request.json", MergePolicy.MergePolicyInput],
  ["merge-policies/create-response.json", MergePolicy.MergePolicy],
  ["merge-policies/put-request.json", MergePolicy.MergePolicyInput],
  ["merge-policies/put-response.json", MergePolicy.MergePolicy],
  ["merge-policies/patch-request.json", MergePolicy.MergePolicyPatch],
  ["merge-policies/patch-response.json", MergePolicy.MergePolicy],
  ["merge-policies/bulk-get-request.json", MergePolicy.BulkGetRequest],
  ["merge-policies/bulk-get-response.json", MergePolicy.BulkGetResult],
  ["computed-attributes/list.json", ComputedAttribute.ComputedAttributeList],
  ["computed-attributes/get.json", ComputedAttribute.ComputedAttribute],
  ["computed-attributes/create-request.json", ComputedAttribute.ComputedAttributeInput],
  ["computed-attributes/create-response.json", ComputedAttribute.ComputedAttribute],
  ["computed-attributes/patch-request.json", ComputedAttribute.ComputedAttributePatch],
  ["computed-attributes/patch-response.json", ComputedAttribute.ComputedAttribute],
  ["computed-attributes/delete-response.json", ComputedAttribute.ComputedAttribute],
  ["export-jobs/list.json", ExportJob.ExportJobList],
  ["export-jobs/get.json", ExportJob.ExportJob],
  ["export-jobs/create-request.json", ExportJob.ExportJobRequest],
  ["export-jobs/create-request-profile-only.json", ExportJob.ExportJobRequest],
  ["export-jobs/create-request-events-only.json", ExportJob.ExportJobRequest],
  ["export-jobs/create-response.json", ExportJob.ExportJob],
  ["export-jobs/cancel-response.json", ExportJob.CancelResult],
  ["export-jobs/segmentation-create-request.json", ExportJob.ExportJobRequest],
  ["export-jobs/segmentation-create-response.json", ExportJob.ExportJob],
  ["export-jobs/segmentation-get.json", ExportJob.ExportJob],
  ["export-jobs/segmentation-list.json", ExportJob.ExportJobList],
  ["system-jobs/list.json", SystemJob.SystemJobList],
  ["system-jobs/get.json", SystemJob.SystemJob],
  ["system-jobs/create-dataset-request.json", SystemJob.SystemJobRequest],
  ["system-jobs/create-batch-request.json", SystemJob.SystemJobRequest],
  ["system-jobs/create-response.json", SystemJob.SystemJob],
  ["system-jobs/create-response-new.json", SystemJob.SystemJob],
  ["system-jobs/create-batch-response.json", SystemJob.SystemJob],
  ["system-jobs/legacy-list.json", SystemJob.SystemJobList],
  ["system-jobs/legacy-get.json", SystemJob.SystemJob],
  ["system-jobs/legacy-create-dataset-response.json", SystemJob.SystemJob],
  ["system-jobs/legacy-create-batch-request.json", SystemJob.SystemJobRequest],
  ["preview-sample-status/status.json", PreviewSampleStatus.SampleStatus],
  ["preview-sample-status/report-dataset.json", PreviewSampleStatus.DatasetReport],
  ["preview-sample-status/report-namespace.json", PreviewSampleStatus.NamespaceReport],
  ["preview-sample-status/report-dataset-overlap.json", PreviewSampleStatus.OverlapReport],
  ["preview-sample-status/report-namespace-overlap.json", PreviewSampleStatus.OverlapReport],
  ["preview-sample-status/report-unstitched-profiles.json", PreviewSampleStatus.UnstitchedProfilesReport],
  ["projections/destinations-list.json", EdgeProjection.DestinationList],
  ["projections/destination-create-request.json", EdgeProjection.DestinationInput],
  ["projections/destination-create-response.json", EdgeProjection.Destination],
  ["projections/destination-get.json", EdgeProjection.Destination],
  ["projections/destination-put-request.json", EdgeProjection.DestinationInput],
  ["projections/destination-put-response.json", EdgeProjection.Destination],
  ["projections/projections-list.json", EdgeProjection.ProjectionList],
  ["projections/projection-create-request.json", EdgeProjection.ProjectionInput],
  ["projections/projection-create-response.json", EdgeProjection.Projection],
  ["ims/token-response.json", ImsToken.TokenResponse]
]

const failures = (table: ReadonlyArray<readonly [string, Schema.Schema<any, any>]>) =>
  table.flatMap(([path, schema]) => {
    const result = Schema.decodeUnknownEither(schema)(fixture(path))
    return result._tag === "Left" ? [`${path}: ${result.left.message}`] : []
  })

describe("Adobe's documented example bodies decode with the contract", () => {
  it("every documented request and response body (but the two below)", () => {
    expect(failures(documented)).toEqual([])
  })

  it("decoding keeps every field Adobe sent", () => {
    for (const path of ["merge-policies/list.json", "computed-attributes/list.json", "export-jobs/list.json"]) {
      const schema = documented.find(([name]) => name === path)![1]
      expect(Schema.encodeSync(schema)(Schema.decodeUnknownSync(schema)(fixture(path)))).toEqual(fixture(path))
    }
  })

  // BUG (src/MergePolicy.ts MergePolicy `name` required): see the getMergePolicy test above.
  it("merge-policies/get.json decodes as a MergePolicy", () => {
    expect(failures([["merge-policies/get.json", MergePolicy.MergePolicy]])).toEqual([])
  })

  // BUG (src/Entity.ts EntitiesRequest "schema.name"): see the getProfiles test above.
  it("Adobe's POST /access/entities request bodies decode as an EntitiesRequest", () => {
    expect(
      failures([
        ["entities/post-request-profiles.json", Entity.EntitiesRequest],
        ["entities/post-request-events.json", Entity.EntitiesRequest]
      ])
    ).toEqual([])
  })
})
