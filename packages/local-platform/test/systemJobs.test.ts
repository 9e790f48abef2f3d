import { HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, layer } from "@effect/vitest"
import { Identity, ProfileClient, type ProfileError, SystemJob } from "@rtcp/core"
import { Ingestion } from "@rtcp/profile-store"
import { Chunk, Effect, Stream } from "effect"
import { authHeaders, ingest, layer as service, orgId } from "./support/harness.js"

const JOBS = "/data/core/ups/system/jobs"
const ecid = (n: number) => String(n).padStart(38, "0")

const crm = (i: number) => ({
  _id: `crm-${i}`,
  identityMap: { CRMID: [{ id: `c${i}`, primary: true }], Email: [{ id: `p${i}@example.com` }] },
  person: { name: { firstName: `First${i}` } }
})

const pageView = (id: string, i: number, minute: number) => ({
  _id: id,
  timestamp: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(),
  eventType: "web.webpagedetails.pageViews",
  identityMap: { ECID: [{ id: ecid(i), primary: true }], Email: [{ id: `p${i}@example.com` }] }
})

/** A raw call, for what the core client never sends (malformed JSON, wrong types). */
const raw = (method: "GET" | "POST" | "DELETE", url: string, body?: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(url).pipe(HttpClientRequest.setHeaders(yield* authHeaders()))
    if (body !== undefined) request = HttpClientRequest.bodyText(request, body, "application/json")
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, contentType: response.headers["content-type"] ?? "", body: text === "" ? undefined : JSON.parse(text) }
  }).pipe(Effect.scoped, Effect.orDie)

/** Polls until the job ends, then reads it (awaitSystemJob's own result is typed `unknown`). */
const awaitJob = (id: string) =>
  Effect.flatMap(ProfileClient.ProfileClient, (client) =>
    Effect.zipRight(client.awaitSystemJob(id, { every: "20 millis" }), client.getSystemJob(id))
  )

const expectAepError = (error: ProfileError.ProfileError, tag: string, status: number) => {
  expect(error._tag).toBe(tag)
  expect(error.status).toBe(status)
  expect(error.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/ns\.adobe\.com\/aep\/errors\//) })
}

describe("system jobs through the core client", () => {
  // Real time: jobs run in the service's background and the client polls.
  layer(service(), { excludeTestServices: true })((it) => {
    it.effect("deletes a dataset and a batch; lookups reflect it", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const { dataset: crmSet } = yield* ingest({ name: "CRM", xdmClass: "profile" }, [crm(1), crm(2)])
        const { batch: first, dataset: web } = yield* ingest({ name: "Web", xdmClass: "experienceevent" }, [
          pageView("a1", 1, 1),
          pageView("a2", 1, 2)
        ])
        expect((yield* client.getProfile(Identity.make("email", "p1@example.com"))).sources).toEqual(
          expect.arrayContaining([crmSet.id])
        )

        const created = yield* client.deleteDatasetFromProfile(crmSet.id)
        expect(created).toMatchObject({
          requestType: "TRUNCATE_DATASET",
          imsOrgId: orgId,
          sandbox: { sandboxName: "prod" },
          properties: { datasetId: crmSet.id }
        })
        expect(created.sandbox?.sandboxId).toMatch(/^[0-9a-f-]{36}$/)
        expect(["NEW", "IN-PROGRESS", "SUCCESS"]).toContain(created.status)
        expect(created.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
        const done = yield* awaitJob(SystemJob.jobId(created))
        expect(done.status).toBe("SUCCESS")
        expect(done.metrics).toMatchObject({ fragmentsDeleted: 2, eventsDeleted: 0, recordsProcessed: 2, profilesAffected: 2 })
        expect((done as any).progress).toBe(100)

        // p1 keeps its events (the profile is still there, without the CRM source); p2 is gone.
        const p1 = yield* client.getProfile(Identity.make("email", "p1@example.com"))
        expect(p1.sources).not.toContain(crmSet.id)
        expect((yield* Effect.flip(client.getProfile(Identity.make("CRMID", "c2"))))._tag).toBe("NotFound")

        // One batch of the event dataset.
        const ingestion = yield* Ingestion.Ingestion
        const second = yield* ingestion.ingestRecords("prod", web.id, [pageView("b1", 1, 3)])
        const batchJob = yield* client.deleteBatchFromProfile(web.id, first.id)
        expect(batchJob.requestType).toBe("DELETE_EE_BATCH")
        expect(batchJob.properties).toEqual({ datasetId: web.id, batchId: first.id })
        const batchDone = yield* awaitJob(SystemJob.jobId(batchJob))
        expect(batchDone.metrics).toMatchObject({ eventsDeleted: 2, fragmentsDeleted: 0 })
        const events = yield* Stream.runCollect(client.experienceEvents(Identity.make("email", "p1@example.com")))
        expect([...events].map((e) => e.entityId)).toEqual(["b1"])
        expect(second.id).not.toBe(first.id)
      })
    )

    it.effect("lists newest first by page, gets and deletes job records", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const before = (yield* client.listSystemJobs())._page.totalCount ?? 0
        const created: Array<string> = []
        for (let i = 0; i < 7; i++) {
          const { dataset } = yield* ingest({ name: `Paged ${i}`, xdmClass: "experienceevent" }, [pageView(`q${i}`, 8, i)])
          const job = yield* client.deleteDatasetFromProfile(dataset.id)
          created.push(SystemJob.jobId(job))
          yield* Effect.sleep("3 millis")
        }
        const newest = [...created].reverse()
        const page0 = yield* client.listSystemJobs({ start: 0, limit: 3 })
        expect(page0._page).toMatchObject({ pageSize: 3, start: "0", totalCount: before + 7, next: 1 })
        expect(page0.children.map(SystemJob.jobId)).toEqual(newest.slice(0, 3))
        const page1 = yield* client.listSystemJobs({ start: 1, limit: 3 })
        expect(page1.children.map(SystemJob.jobId)).toEqual(newest.slice(3, 6))
        // The stream walks every page.
        const all = yield* Stream.runCollect(client.systemJobs({ limit: 2 }))
        expect(Chunk.size(all)).toBe(before + 7)
        expect([...all].map(SystemJob.jobId).slice(0, 7)).toEqual(newest)

        const id = created[0]!
        yield* awaitJob(id)
        const got = yield* client.getSystemJob(id)
        expect(got).toMatchObject({ requestId: id, status: "SUCCESS" })
        yield* client.deleteSystemJob(id)
        const gone = yield* Effect.flip(client.getSystemJob(id))
        expectAepError(gone, "NotFound", 404)
        expectAepError(yield* Effect.flip(client.deleteSystemJob(id)), "NotFound", 404)
        expect((yield* client.listSystemJobs())._page.totalCount).toBe(before + 6)
        for (const other of created.slice(1)) yield* awaitJob(other)
      })
    )

    it.effect("bad input on every endpoint answers 4xx with AEP's body and changes nothing", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const { batch: records, dataset: crmSet } = yield* ingest({ name: "CRM bad", xdmClass: "profile" }, [crm(40)])
        const { dataset: web } = yield* ingest({ name: "Web bad", xdmClass: "experienceevent" }, [pageView("z1", 41, 1)])
        const before = (yield* client.listSystemJobs())._page.totalCount

        // create
        const recordBatch = yield* Effect.flip(client.deleteBatchFromProfile(crmSet.id, records.id))
        expect(recordBatch.body).toMatchObject({
          type: "https://ns.adobe.com/aep/errors/UPAPI-036002-422",
          title: "Invalid system job payload.",
          status: 422
        })
        expect(recordBatch._tag).toBe("Unprocessable")
        const rawRecordBatch = yield* raw("POST", JOBS, JSON.stringify({ datasetId: crmSet.id, batchId: records.id }))
        expect(rawRecordBatch.status).toBe(422)
        expect(rawRecordBatch.contentType).toContain("application/problem+json")
        expect(typeof rawRecordBatch.body.requestId).toBe("string")

        const unknownDataset = yield* Effect.flip(client.deleteDatasetFromProfile("0123456789abcdef01234567"))
        expectAepError(unknownDataset, "Unprocessable", 422)
        expect((unknownDataset.body as any).detail).toContain('Dataset "0123456789abcdef01234567" does not exist')
        const unknownBatch = yield* Effect.flip(client.deleteBatchFromProfile(web.id, "01NOSUCHBATCH"))
        expect((unknownBatch.body as any).detail).toContain('Batch "01NOSUCHBATCH" does not exist')
        expectAepError(yield* Effect.flip(client.createSystemJob({})), "BadRequest", 400)

        for (const body of ["{not json", "[1,2]", '{"dataSetId":42}', '"x"', "{}"]) {
          const answer = yield* raw("POST", JOBS, body)
          expect(answer.status, body).toBe(400)
          expect(answer.body).toMatchObject({ status: 400, type: expect.any(String), detail: expect.any(String) })
        }

        // list
        for (const query of ["limit=abc", "limit=0", "limit=500", "start=-1", "sort=name:asc"]) {
          const answer = yield* raw("GET", `${JOBS}?${query}`)
          expect(answer.status, query).toBe(400)
          expect(answer.body).toMatchObject({ status: 400, detail: expect.any(String) })
        }

        // get and delete
        expectAepError(yield* Effect.flip(client.getSystemJob("no-such-job")), "NotFound", 404)
        expectAepError(yield* Effect.flip(client.deleteSystemJob("no-such-job")), "NotFound", 404)

        // Nothing was recorded and nothing deleted.
        expect((yield* client.listSystemJobs())._page.totalCount).toBe(before)
        expect((yield* client.getProfile(Identity.make("CRMID", "c40"))).sources).toEqual([crmSet.id])
        const events = yield* client.getExperienceEvents(Identity.make("ECID", ecid(41)))
        expect(events.children).toHaveLength(1)
      })
    )
  })
})
