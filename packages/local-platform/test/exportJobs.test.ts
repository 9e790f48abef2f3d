import { HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, layer } from "@effect/vitest"
import { ExportJob, Identity, ProfileClient } from "@rtcp/core"
import { Catalog, ExportJobs } from "@rtcp/profile-store"
import { Chunk, Effect, Layer, Stream } from "effect"
import { readFile } from "node:fs/promises"
import { authHeaders, client, ingest, service } from "./support/harness.js"

const PROFILE = "_xdm.context.profile"
const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"]
const ecid = (n: number) => String(n).padStart(38, "2")

/** Service and client, with export jobs tuned (or hooked) by `options`; real clock, since jobs run in the background. */
const setup = (options: ExportJobs.Options = {}) =>
  client().pipe(Layer.provideMerge(service()), Layer.provide(Layer.succeed(ExportJobs.Config, options)))

const crm = (i: number, first: string) => ({
  _id: `crm-${i}`,
  identityMap: { CRMID: [{ id: `c${i}`, primary: true }], Email: [{ id: `x${i}@example.com` }] },
  person: { name: { firstName: first, lastName: "Roe" } },
  personalEmail: { address: `x${i}@example.com` },
  extSourceSystemAudit: { lastUpdatedDate: "2025-01-01T00:00:00Z" }
})

const pageView = (id: string, minute: number, email: string) => ({
  _id: id,
  timestamp: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(),
  eventType: "web.webpagedetails.pageViews",
  web: { webPageDetails: { name: `page-${minute}` } },
  identityMap: { ECID: [{ id: ecid(minute), primary: true }], Email: [{ id: email }] }
})

const destinationDataset = Effect.flatMap(Catalog.Catalog, (catalog) =>
  catalog.create("prod", { name: "Profile export", schemaRef: { id: "https://ns.adobe.com/xdm/context/profile" } })
)

/** Polls `GET /export/jobs/{id}` until the job ends. */
const settle = (id: number) =>
  Effect.gen(function* () {
    const profiles = yield* ProfileClient.ProfileClient
    for (let attempt = 0; attempt < 3000; attempt++) {
      const job = yield* profiles.getExportJob(id)
      if (TERMINAL.includes(job.status)) return job
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.dieMessage(`export job ${id} did not end`)
  })

const outputOf = (id: number) =>
  Effect.gen(function* () {
    const jobs = yield* ExportJobs.ExportJobs
    const lines: Array<any> = []
    for (const file of yield* jobs.files("prod", id)) {
      const text = yield* Effect.promise(() => readFile(file, "utf8"))
      for (const line of text.split("\n")) if (line !== "") lines.push(JSON.parse(line))
    }
    return lines
  })

/** A raw request, for what the typed client cannot send (malformed bodies, wrong ids). */
const raw = (method: "GET" | "POST" | "DELETE", path: string, body?: string) =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const headers = yield* authHeaders()
    let request = HttpClientRequest.make(method)(path).pipe(HttpClientRequest.setHeaders(headers))
    if (body !== undefined) request = HttpClientRequest.bodyText(request, body, "application/json")
    const response = yield* http.execute(request)
    const text = yield* response.text
    return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as any), contentType: response.headers["content-type"] }
  }).pipe(Effect.orDie)

describe("export jobs through the core client", () => {
  layer(setup({ profilesPerFile: 2 }), { excludeTestServices: true })((it) => {
    it.effect("exports merged profiles (with fields and events) that entity lookups answer the same", () =>
      Effect.gen(function* () {
        yield* ingest({ name: "CRM", xdmClass: "profile" }, [crm(1, "Ada"), crm(2, "Ben"), crm(3, "Cy")])
        yield* ingest({ name: "Web", xdmClass: "experienceevent" }, [
          pageView("w1", 1, "x1@example.com"),
          pageView("w2", 2, "x1@example.com"),
          pageView("w3", 3, "x2@example.com")
        ])
        const destination = yield* destinationDataset
        const profiles = yield* ProfileClient.ProfileClient

        const created = yield* profiles.createExportJob({
          fields: "person.name,identities",
          schema: { name: PROFILE },
          additionalFields: { eventList: { fields: "web.webPageDetails.name" } },
          destination: { datasetId: destination.id }
        })
        expect(created.status).toBe("NEW")
        expect(created.destination).toMatchObject({ datasetId: destination.id, segmentPerBatch: false })
        expect(created.destination?.batchId).toBeDefined()
        const done = yield* settle(created.id)
        expect(done.status).toBe("SUCCEEDED")
        expect(done.metrics?.totalExportedProfileCounter).toBe(3)
        expect(done.metrics?.exportedProfileByNamespaceCounter).toEqual({ crmid: 3, email: 3, ecid: 2 })
        expect((yield* ExportJobs.ExportJobs.pipe(Effect.flatMap((jobs) => jobs.files("prod", created.id)))).length).toBe(2)

        const lines = yield* outputOf(created.id)
        expect(lines.map((line) => line.entity.person.name.firstName).sort()).toEqual(["Ada", "Ben", "Cy"])
        for (const line of lines) {
          const profile = yield* profiles.getProfile(Identity.xid(line.entityId), { fields: ["person.name", "identities"] })
          expect(profile.entity).toEqual(line.entity)
          expect(profile.entityId).toBe(line.entityId)
          expect(profile.sources).toEqual(line.sources)
          expect(profile.lastModifiedAt).toBe(line.lastModifiedAt)
          const events = yield* Stream.runCollect(profiles.experienceEvents(Identity.xid(line.entityId), { fields: ["web.webPageDetails.name"] }))
          expect(line.events).toEqual(Chunk.toReadonlyArray(events))
        }
        const ada = lines.find((line) => line.entity.person.name.firstName === "Ada")
        expect(ada.events.map((event: any) => event.entity)).toEqual([
          { web: { webPageDetails: { name: "page-1" } } },
          { web: { webPageDetails: { name: "page-2" } } }
        ])
      })
    )

    it.effect("lists jobs newest first, pages with offset, and filters by status", () =>
      Effect.gen(function* () {
        const destination = yield* destinationDataset
        const profiles = yield* ProfileClient.ProfileClient
        const body: ExportJob.ExportJobRequest = { schema: { name: PROFILE }, destination: { datasetId: destination.id } }
        const a = yield* profiles.createExportJob(body)
        const b = yield* profiles.createExportJob({ ...body, filter: { segments: [{ segmentId: "unknown-segment" }] } })
        const c = yield* profiles.createExportJob(body)
        for (const job of [a, b, c]) yield* settle(job.id)
        expect((yield* profiles.getExportJob(b.id)).status).toBe("FAILED")
        expect((yield* profiles.getExportJob(b.id)).errors).toHaveLength(1)

        const all = yield* Stream.runCollect(profiles.exportJobs({ limit: 2 }))
        const ids = Chunk.toReadonlyArray(all).map((job) => job.id)
        expect(ids.slice(0, 3)).toEqual([c.id, b.id, a.id])
        expect(ids).toEqual([...ids].sort((x, y) => y - x))

        const first = yield* profiles.listExportJobs({ limit: 2 })
        expect(first.records.map((job) => job.id)).toEqual([c.id, b.id])
        expect(first.page).toEqual({ sortField: "createdTime", sort: "desc", pageOffset: `${b.creationTime}_${b.id}`, pageSize: 2 })
        expect(first.link?.next).toBe(`/export/jobs/?limit=2&offset=${b.creationTime}_${b.id}`)
        const second = yield* profiles.listExportJobs({ limit: 2, offset: `${b.creationTime}_${b.id}` })
        expect(second.records[0]?.id).toBe(a.id)

        const failed = yield* profiles.listExportJobs({ status: "FAILED" })
        expect(failed.records.map((job) => job.id)).toEqual([b.id])
        expect(failed.link?.next).toBeUndefined()

        const rawList = yield* raw("GET", "/data/core/ups/export/jobs/?limit=1&status=SUCCEEDED")
        expect(rawList.status).toBe(200)
        expect(rawList.body.records.map((job: any) => job.id)).toEqual([c.id])
        expect(rawList.body.link.next).toBe(`/export/jobs/?limit=1&offset=${c.creationTime}_${c.id}&status=SUCCEEDED`)
      })
    )

    it.effect("answers bad input with 4xx and AEP's body, creating nothing", () =>
      Effect.gen(function* () {
        const destination = yield* destinationDataset
        const profiles = yield* ProfileClient.ProfileClient
        const before = (yield* profiles.listExportJobs({ limit: 1000 })).records.length

        const unknownDataset = yield* Effect.flip(profiles.createExportJob({ schema: { name: PROFILE }, destination: { datasetId: "missing" } }))
        expect(unknownDataset._tag).toBe("Unprocessable")
        expect(unknownDataset.status).toBe(422)
        expect(unknownDataset.body).toMatchObject({ status: 422, detail: expect.stringContaining('"missing" does not exist') })

        const wrongSchema = yield* Effect.flip(
          profiles.createExportJob({ schema: { name: "_xdm.context.experienceevent" }, destination: { datasetId: destination.id } })
        )
        expect(wrongSchema._tag).toBe("BadRequest")
        expect(wrongSchema.body).toMatchObject({ status: 400, title: "Invalid export job payload", requestId: expect.any(String) })

        const badFilter = yield* Effect.flip(
          profiles.createExportJob({ schema: { name: PROFILE }, filter: { fromIngestTimestamp: "soon" }, destination: { datasetId: destination.id } })
        )
        expect(badFilter.status).toBe(400)

        const notJson = yield* raw("POST", "/data/core/ups/export/jobs", "{not json")
        expect(notJson.status).toBe(400)
        expect(notJson.body).toMatchObject({ status: 400 })
        const noDestination = yield* raw("POST", "/data/core/ups/export/jobs", JSON.stringify({ schema: { name: PROFILE } }))
        expect(noDestination.status).toBe(400)
        expect(noDestination.contentType).toContain("application/problem+json")
        expect(noDestination.body.detail).toContain("destination")
        const arrayBody = yield* raw("POST", "/data/core/ups/export/jobs", "[]")
        expect(arrayBody.status).toBe(400)

        expect((yield* profiles.listExportJobs({ limit: 1000 })).records).toHaveLength(before)
        const catalog = yield* Catalog.Catalog
        expect((yield* catalog.find("prod", destination.id))._tag).toBe("Some")

        const unknownJob = yield* Effect.flip(profiles.getExportJob(987654))
        expect(unknownJob._tag).toBe("NotFound")
        expect(unknownJob.body).toMatchObject({ status: 404 })
        expect((yield* Effect.flip(profiles.cancelExportJob(987654)))._tag).toBe("NotFound")
        expect((yield* raw("GET", "/data/core/ups/export/jobs/abc")).status).toBe(400)
        expect((yield* Effect.flip(profiles.listExportJobs({ status: "DONE" }))).status).toBe(400)
        expect((yield* Effect.flip(profiles.listExportJobs({ offset: "page-2" }))).status).toBe(400)
        expect((yield* Effect.flip(profiles.listExportJobs({ limit: 0 }))).status).toBe(400)
      })
    )
  })

  // Jobs wait before their first page until the gate opens, so a cancel meets a running job.
  const gate = Effect.runSync(Effect.makeLatch(false))
  layer(setup({ beforePage: () => gate.await }), { excludeTestServices: true })((it) => {
    it.effect("cancels a running job: 200 with AEP's message, then CANCELLED", () =>
      Effect.gen(function* () {
        yield* ingest({ name: "CRM", xdmClass: "profile" }, [crm(1, "Ada")])
        const destination = yield* destinationDataset
        const profiles = yield* ProfileClient.ProfileClient
        const job = yield* profiles.createExportJob({ schema: { name: PROFILE }, destination: { datasetId: destination.id } })
        for (let attempt = 0; attempt < 3000 && (yield* profiles.getExportJob(job.id)).status !== "PROCESSING"; attempt++) {
          yield* Effect.sleep("10 millis")
        }
        const answer = yield* raw("DELETE", `/data/core/ups/export/jobs/${job.id}`)
        expect(answer).toMatchObject({ status: 200, body: { status: true, message: "Export job has been marked for cancelling" } })
        yield* gate.open
        const done = yield* settle(job.id)
        expect(done.status).toBe("CANCELLED")
        expect(yield* outputOf(job.id)).toEqual([])

        // Cancelling through the client, and again once ended.
        const again = yield* profiles.createExportJob({ schema: { name: PROFILE }, destination: { datasetId: destination.id } })
        expect((yield* settle(again.id)).status).toBe("SUCCEEDED")
        yield* profiles.cancelExportJob(again.id)
        expect((yield* profiles.getExportJob(again.id)).status).toBe("SUCCEEDED")
      }).pipe(Effect.ensuring(gate.open))
    )
  })
})
