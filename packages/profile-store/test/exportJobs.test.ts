import { describe, expect, it } from "@effect/vitest"
import { storeAt } from "./support/database.js"
import { Catalog, Entities, ExportJobs, Ingestion, MergePolicies } from "@rtcp/profile-store"
import { Effect, Layer } from "effect"
import { readFile } from "node:fs/promises"

const SANDBOX = "prod"
const PROFILE = "_xdm.context.profile"
const ORG = "TEST@AdobeOrg"
const ecid = (n: number) => String(n).padStart(38, "1")

/** A fresh in-memory store whose export jobs use `options`. */
const store = (options: ExportJobs.Options = {}) =>
  storeAt(":memory:").pipe(Layer.provide(Layer.succeed(ExportJobs.Config, options)))

const crm = (i: number, first: string) => ({
  _id: `crm-${i}`,
  identityMap: { CRMID: [{ id: `c${i}`, primary: true }], Email: [{ id: `p${i}@example.com` }] },
  person: { name: { firstName: first, lastName: "Doe" } },
  homeAddress: { city: "Lyon" },
  extSourceSystemAudit: { lastUpdatedDate: `2025-01-0${(i % 9) + 1}T00:00:00Z` }
})

const loyalty = (i: number, tier: string) => ({
  _id: `l-${i}`,
  identityMap: { LoyaltyId: [{ id: `L${i}`, primary: true }], Email: [{ id: `p${i}@example.com` }] },
  loyalty: { tier },
  extSourceSystemAudit: { lastUpdatedDate: "2025-06-01T00:00:00Z" }
})

const pageView = (id: string, visitor: number, minute: number, email?: string) => ({
  _id: id,
  timestamp: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(),
  eventType: "web.webpagedetails.pageViews",
  web: { webPageDetails: { name: `page-${minute}` } },
  identityMap: {
    ECID: [{ id: ecid(visitor), primary: true }],
    ...(email ? { Email: [{ id: email, authenticatedState: "authenticated" }] } : {})
  }
})

const dataset = (name: string, xdmClass: "profile" | "experienceevent", tags: ReadonlyArray<string>) =>
  Effect.flatMap(Catalog.Catalog, (catalog) =>
    catalog.create(SANDBOX, {
      name,
      schemaRef: { id: `https://ns.adobe.com/xdm/context/${xdmClass}` },
      tags: tags.length === 0 ? {} : { unifiedProfile: [...tags] }
    })
  )

const ingest = (datasetId: string, records: ReadonlyArray<unknown>) =>
  Effect.flatMap(Ingestion.Ingestion, (ingestion) => ingestion.ingestRecords(SANDBOX, datasetId, records))

/**
 * Four CRM customers, two of them also in loyalty (stitched by email), one
 * loyalty-only member, web events for customer 1 and for an anonymous
 * visitor (an event-only profile), and an empty destination dataset.
 */
const seed = Effect.gen(function* () {
  const crmSet = yield* dataset("CRM", "profile", ["enabled:true"])
  const loyaltySet = yield* dataset("Loyalty", "profile", ["enabled:true", "isUpsert:true"])
  const web = yield* dataset("Web", "experienceevent", ["enabled:true"])
  const destination = yield* dataset("Profile export", "profile", [])
  yield* ingest(crmSet.id, [crm(1, "Jane"), crm(2, "John"), crm(3, "Ann"), crm(4, "Bob")])
  yield* ingest(loyaltySet.id, [loyalty(1, "gold"), loyalty(2, "silver"), loyalty(9, "bronze")])
  yield* ingest(web.id, [
    pageView("e1", 1, 1, "p1@example.com"),
    pageView("e2", 1, 2),
    pageView("e3", 1, 3),
    pageView("a1", 7, 4),
    pageView("a2", 7, 5)
  ])
  return { crm: crmSet, loyalty: loyaltySet, web, destination }
})

const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"]

/** Polls the job until it ends. */
const settle = (id: number) =>
  Effect.gen(function* () {
    const jobs = yield* ExportJobs.ExportJobs
    for (let attempt = 0; attempt < 3000; attempt++) {
      const job = yield* jobs.get(SANDBOX, id)
      if (TERMINAL.includes(job.status)) return job
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.dieMessage(`export job ${id} did not end`)
  })

const waitFor = (id: number, status: string) =>
  Effect.gen(function* () {
    const jobs = yield* ExportJobs.ExportJobs
    for (let attempt = 0; attempt < 3000; attempt++) {
      const job = yield* jobs.get(SANDBOX, id)
      if (job.status === status) return job
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.dieMessage(`export job ${id} never reached ${status}`)
  })

/** What a job into `datasetId` does: everything but `overrides` as a bare request asks. */
const request = (datasetId: string, overrides: Partial<ExportJobs.Request> = {}): ExportJobs.Request => ({
  fields: undefined,
  mergePolicyId: undefined,
  mergePolicyVersion: undefined,
  segments: undefined,
  fromIngestTimestamp: undefined,
  emptyProfiles: false,
  events: undefined,
  datasetId,
  segmentPerBatch: false,
  ...overrides
})

const newJob = (datasetId: string, overrides: Partial<ExportJobs.Request> = {}, echo: ExportJobs.Echo = {}): ExportJobs.NewJob => ({
  request: request(datasetId, overrides),
  echo
})

const runJob = (job: ExportJobs.NewJob) =>
  Effect.gen(function* () {
    const jobs = yield* ExportJobs.ExportJobs
    const created = yield* jobs.create(SANDBOX, job, { imsOrgId: ORG, requestId: "req-1" })
    expect(created.status).toBe("NEW")
    const done = yield* settle(created.id)
    const files = yield* jobs.files(SANDBOX, created.id)
    const lines: Array<any> = []
    for (const file of files) {
      const text = yield* Effect.promise(() => readFile(file, "utf8"))
      for (const line of text.split("\n")) if (line !== "") lines.push(JSON.parse(line))
    }
    return { created, done, files, lines }
  })

/** The lookup of an exported line's XID, as `GET /access/entities` answers it. */
const lookup = (xid: string, options: { fields?: ReadonlyArray<string>; mergePolicyId?: string } = {}) =>
  Effect.flatMap(Entities.Entities, (entities) =>
    entities.getProfile(SANDBOX, {
      identity: { id: xid },
      schemaName: PROFILE,
      fields: options.fields,
      mergePolicyId: options.mergePolicyId
    })
  )

const firstNames = (lines: ReadonlyArray<any>) => lines.map((line) => line.entity.person?.name?.firstName ?? null).sort()

describe("export jobs", () => {
  it.live("exports every merged profile as its lookup shows it, split into parts, and registers the batch", () =>
    Effect.gen(function* () {
      const { destination } = yield* seed
      const { created, done, files, lines } = yield* runJob(newJob(destination.id))

      const defaultPolicy = yield* Effect.flatMap(MergePolicies.MergePolicies, (policies) => policies.resolve(SANDBOX, undefined, PROFILE))
      expect(created).toMatchObject({
        sandbox: SANDBOX,
        requestId: "req-1",
        imsOrgId: ORG,
        computeGateway: {},
        datasetId: destination.id,
        segmentPerBatch: false,
        echo: {},
        errors: []
      })
      expect(created.batchId).toMatch(/^[0-9a-f]{32}$/)
      expect(typeof created.id).toBe("number")
      expect(created.mergePolicyId).toBe(defaultPolicy.id)
      expect(created.mergePolicyVersion).toBe(1)

      expect(done.status).toBe("SUCCEEDED")
      expect(done.batchId).toBe(created.batchId)
      expect(done.errors).toEqual([])
      expect(Object.keys(done.computeGateway).sort()).toEqual(["exportJob", "pushJob"])
      // Customers 1–4 (1 and 2 stitched with their loyalty records) and loyalty-only member 9; not the anonymous visitor.
      expect(lines).toHaveLength(5)
      expect(firstNames(lines)).toEqual(["Ann", "Bob", "Jane", "John", null])
      // pageSize 2 and 2 profiles per file: three parts.
      expect(files.map((file) => file.split("/").pop())).toEqual(["part-00000.ndjson", "part-00001.ndjson", "part-00002.ndjson"])
      expect(files[0]).toContain(`/exports/${SANDBOX}/${destination.id}/${created.batchId}/`)

      for (const line of lines) {
        const profile = yield* lookup(line.entityId)
        expect(line).toEqual(profile.body)
        expect(line.events).toBeUndefined()
      }
      const jane = lines.find((line) => line.entity.person?.name?.firstName === "Jane")
      expect(jane.entity.loyalty.tier).toBe("gold")
      expect(jane.entity.identities.map((i: any) => i.namespace.code).sort()).toEqual(["crmid", "ecid", "email", "loyaltyid"])

      const metrics = done.metrics
      expect(metrics.totalExportedProfileCounter).toBe(5)
      expect(metrics.exportedProfileByNamespaceCounter).toEqual({ crmid: 4, email: 5, loyaltyid: 3, ecid: 1 })
      for (const timing of [metrics.totalTime, metrics.profileExportTime, metrics.aCPDatasetWriteTime]) {
        expect(timing.startTimeInMs).toBeGreaterThan(0)
        expect(timing.endTimeInMs).toBeGreaterThanOrEqual(timing.startTimeInMs)
        expect(timing.totalTimeInMs).toBe(timing.endTimeInMs - timing.startTimeInMs)
      }
      expect(done.createdAt).toBe(metrics.totalTime.startTimeInMs)
      expect(done.updatedAt).toBeGreaterThanOrEqual(done.createdAt)

      const ingestion = yield* Ingestion.Ingestion
      const batch = yield* ingestion.getBatch(SANDBOX, created.batchId)
      expect(batch).toMatchObject({ datasetId: destination.id, status: "success", recordsTotal: 5, recordsFailed: 0 })
      expect((yield* ingestion.listBatches(SANDBOX, destination.id)).map((b) => b.id)).toEqual([batch.id])
    }).pipe(Effect.provide(store({ pageSize: 2, profilesPerFile: 2 })))
  )

  it.live("projects fields, adds event-only profiles with emptyProfiles, and includes events with eventList", () =>
    Effect.gen(function* () {
      const { destination, web } = yield* seed
      const projected = yield* runJob(
        newJob(destination.id, { fields: ["person.name.firstName", "identities"] }, { fields: "person.name.firstName,identities" })
      )
      expect(projected.done.echo.fields).toBe("person.name.firstName,identities")
      expect(projected.lines).toHaveLength(5)
      for (const line of projected.lines) {
        for (const key of Object.keys(line.entity)) expect(["person", "identities"]).toContain(key)
        const profile = yield* lookup(line.entityId, { fields: ["person.name.firstName", "identities"] })
        expect(line).toEqual(profile.body)
      }

      const withEmpty = yield* runJob(newJob(destination.id, { emptyProfiles: true }, { filter: { emptyProfiles: true } }))
      expect(withEmpty.done.echo.filter).toEqual({ emptyProfiles: true })
      expect(withEmpty.lines).toHaveLength(6)
      const anonymous = withEmpty.lines.find((line) => line.sources.length === 0)
      expect(anonymous.entity.identities).toEqual([{ id: ecid(7), namespace: { code: "ecid" }, primary: true }])
      expect(anonymous).toEqual((yield* lookup(anonymous.entityId)).body)
      expect(withEmpty.done.metrics.exportedProfileByNamespaceCounter.ecid).toBe(2)

      // Events arriving later, then an export of only those (ingestion time window) with one field.
      const mark = Date.now()
      yield* Effect.sleep("5 millis")
      yield* ingest(web.id, [pageView("e4", 1, 6), pageView("a3", 7, 7)])
      const entities = yield* Entities.Entities
      const events = yield* runJob(
        newJob(destination.id, {
          emptyProfiles: true,
          events: { fields: ["eventType"], fromIngestTimestamp: undefined, toIngestTimestamp: undefined }
        })
      )
      const windowed = yield* runJob(
        newJob(destination.id, {
          emptyProfiles: true,
          events: { fields: ["web"], fromIngestTimestamp: mark, toIngestTimestamp: undefined }
        })
      )
      for (const line of events.lines) {
        const page = yield* entities.getEvents(SANDBOX, { identity: { id: line.entityId }, fields: ["eventType"] })
        expect(line.events).toEqual(page.events)
        const { events: _events, ...profile } = line
        expect(profile).toEqual((yield* lookup(line.entityId)).body)
      }
      const byName = (lines: ReadonlyArray<any>, code: string) =>
        lines.find((line) => line.entity.identities.some((i: any) => i.id === code))
      expect(byName(events.lines, "c1").events.map((e: any) => e.entityId)).toEqual(["e1", "e2", "e3", "e4"])
      expect(byName(events.lines, "c1").events[0].entity).toEqual({ eventType: "web.webpagedetails.pageViews" })
      expect(byName(events.lines, "c3").events).toEqual([])
      expect(byName(windowed.lines, "c1").events.map((e: any) => e.entityId)).toEqual(["e4"])
      expect(byName(windowed.lines, "c1").events[0].entity).toEqual({ web: { webPageDetails: { name: "page-6" } } })
      expect(byName(windowed.lines, ecid(7)).events.map((e: any) => e.entityId)).toEqual(["a3"])
    }).pipe(Effect.provide(store()))
  )

  it.live("keeps only profiles updated after filter.fromIngestTimestamp", () =>
    Effect.gen(function* () {
      const { destination, loyalty: loyaltySet } = yield* seed
      const mark = Date.now()
      yield* Effect.sleep("5 millis")
      yield* ingest(loyaltySet.id, [loyalty(3, "platinum"), loyalty(8, "bronze")])
      const { done, lines } = yield* runJob(newJob(destination.id, { fromIngestTimestamp: mark }))
      expect(done.status).toBe("SUCCEEDED")
      const loyaltyIds = lines.map((line) => line.entity.identities.find((i: any) => i.namespace.code === "loyaltyid")?.id).sort()
      expect(loyaltyIds).toEqual(["L3", "L8"])
      expect(lines.find((line) => line.entity.loyalty.tier === "platinum").entity.person.name.firstName).toBe("Ann")
      for (const line of lines) expect(Date.parse(line.lastModifiedAt)).toBeGreaterThanOrEqual(Math.floor(mark / 1000) * 1000)
    }).pipe(Effect.provide(store()))
  )

  it.live("exports under a merge policy without stitching, one profile per identity with record data", () =>
    Effect.gen(function* () {
      const { destination } = yield* seed
      const policies = yield* MergePolicies.MergePolicies
      const none = yield* policies.create(SANDBOX, {
        name: "No stitching",
        schemaName: PROFILE,
        identityGraph: "none",
        attributeMerge: { type: "timestampOrdered" },
        isDefault: false,
        activeOnEdge: false
      })
      const { done, lines } = yield* runJob(newJob(destination.id, { mergePolicyId: none.id, mergePolicyVersion: 1 }))
      expect(done).toMatchObject({ mergePolicyId: none.id, mergePolicyVersion: 1 })
      // Four CRM fragments and three loyalty fragments, each keyed by its own primary identity.
      expect(lines).toHaveLength(7)
      for (const line of lines) {
        expect(line.entity.identities).toHaveLength(1)
        expect(line).toEqual((yield* lookup(line.entityId, { mergePolicyId: none.id })).body)
      }
    }).pipe(Effect.provide(store()))
  )

  it.live("a segment filter fails the job with an error entry, since no segment store knows it", () =>
    Effect.gen(function* () {
      const { destination } = yield* seed
      const { created, done, files } = yield* runJob(
        newJob(destination.id, { segments: [{ segmentId: "5b9e4a38-9bd4-47d8-9e1f-dcd1d2ab3d9a", segmentNs: "ups", status: ["realized"] }] })
      )
      expect(done.status).toBe("FAILED")
      expect(done.errors).toEqual([
        expect.objectContaining({ code: "0090000009", msg: expect.stringContaining("ups:5b9e4a38-9bd4-47d8-9e1f-dcd1d2ab3d9a") })
      ])
      expect(files).toEqual([])
      const batch = yield* Effect.flatMap(Ingestion.Ingestion, (i) => i.getBatch(SANDBOX, created.batchId))
      expect(batch.status).toBe("failed")
    }).pipe(Effect.provide(store()))
  )

  it.live("refuses a job whose policy or dataset cannot take it, and creates nothing", () =>
    Effect.gen(function* () {
      const { destination, web } = yield* seed
      const jobs = yield* ExportJobs.ExportJobs
      const policies = yield* MergePolicies.MergePolicies
      const policy = yield* policies.resolve(SANDBOX, undefined, PROFILE)
      const cases: ReadonlyArray<readonly [ExportJobs.NewJob, string]> = [
        [newJob("nope"), "does not exist"],
        [newJob(web.id), "experienceevent"],
        [newJob(destination.id, { mergePolicyId: "missing" }), 'Merge policy "missing" does not exist'],
        [newJob(destination.id, { mergePolicyId: policy.id, mergePolicyVersion: 2 }), "version 2 does not exist yet"]
      ]
      for (const [job, detail] of cases) {
        const error = yield* Effect.flip(jobs.create(SANDBOX, job, { imsOrgId: ORG }))
        expect(error._tag, JSON.stringify(job)).toBe("Refused")
        expect(error).toMatchObject({ rule: "Invalid export job payload", message: expect.stringContaining(detail) })
      }
      expect((yield* jobs.list(SANDBOX, {})).records).toEqual([])
      const ingestion = yield* Ingestion.Ingestion
      expect(yield* ingestion.listBatches(SANDBOX, destination.id)).toEqual([])
      // Jobs belong to their sandbox.
      expect((yield* Effect.flip(jobs.get(SANDBOX, 1)))._tag).toBe("ExportJobNotFound")
    }).pipe(Effect.provide(store()))
  )

  it.live("lists newest first with a cursor, filters by status, and cancels", () =>
    Effect.gen(function* () {
      // Every job waits before its first page until the gate opens.
      const gate = yield* Effect.makeLatch(false)
      yield* cancelScenario(gate).pipe(Effect.ensuring(gate.open), Effect.provide(store({ beforePage: () => gate.await })))
    })
  )
})

const cancelScenario = (gate: Effect.Latch) =>
    Effect.gen(function* () {
      const { destination } = yield* seed
      const jobs = yield* ExportJobs.ExportJobs
      const body = newJob(destination.id)
      const first = yield* jobs.create(SANDBOX, body, { imsOrgId: ORG })
      const second = yield* jobs.create(SANDBOX, body, { imsOrgId: ORG })
      const third = yield* jobs.create(SANDBOX, body, { imsOrgId: ORG })
      yield* waitFor(first.id, "PROCESSING")

      // Jobs run one at a time: the others wait as NEW, and a NEW job cancels at once.
      expect((yield* jobs.get(SANDBOX, second.id)).status).toBe("NEW")
      expect(yield* jobs.cancel(SANDBOX, second.id)).toEqual({ status: true, message: ExportJobs.CANCEL_MESSAGE })
      expect((yield* jobs.get(SANDBOX, second.id)).status).toBe("CANCELLED")
      // A running job is marked, and stops before its next page.
      expect(yield* jobs.cancel(SANDBOX, first.id)).toEqual({ status: true, message: ExportJobs.CANCEL_MESSAGE })
      expect((yield* jobs.get(SANDBOX, first.id)).status).toBe("PROCESSING")
      yield* gate.open
      const cancelled = yield* settle(first.id)
      expect(cancelled.status).toBe("CANCELLED")
      expect(yield* jobs.files(SANDBOX, first.id)).toEqual([])
      expect((yield* settle(third.id)).status).toBe("SUCCEEDED")
      const finished = yield* jobs.cancel(SANDBOX, third.id)
      expect(finished.status).toBe(false)
      expect((yield* jobs.get(SANDBOX, third.id)).status).toBe("SUCCEEDED")
      expect((yield* Effect.flip(jobs.cancel(SANDBOX, 999)))._tag).toBe("ExportJobNotFound")
      const ingestion = yield* Ingestion.Ingestion
      const statuses = (yield* ingestion.listBatches(SANDBOX, destination.id)).map((b) => b.status).sort()
      expect(statuses).toEqual(["aborted", "aborted", "success"])

      const all = yield* jobs.list(SANDBOX, {})
      expect(all.records.map((job) => job.id)).toEqual([third.id, second.id, first.id])
      expect(all.next).toBeUndefined()
      const one = yield* jobs.list(SANDBOX, { limit: 1 })
      expect(one.records.map((job) => job.id)).toEqual([third.id])
      expect(one.next).toBe(`${third.createdAt}_${third.id}`)
      expect(one.pageOffset).toBe(one.next)
      const two = yield* jobs.list(SANDBOX, { limit: 1, offset: one.next })
      expect(two.records.map((job) => job.id)).toEqual([second.id])
      const last = yield* jobs.list(SANDBOX, { limit: 1, offset: two.next })
      expect(last.records.map((job) => job.id)).toEqual([first.id])
      expect(last.next).toBeUndefined()
      expect((yield* jobs.list(SANDBOX, { status: "cancelled" })).records.map((job) => job.id)).toEqual([second.id, first.id])
      expect((yield* jobs.list(SANDBOX, { status: "SUCCEEDED,FAILED" })).records.map((job) => job.id)).toEqual([third.id])
      for (const query of [{ status: "DONE" }, { offset: "yesterday" }, { limit: 0 }]) {
        const error = yield* Effect.flip(jobs.list(SANDBOX, query))
        expect(error._tag).toBe("InvalidInput")
      }
    })
