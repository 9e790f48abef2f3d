import { describe, expect, it } from "@effect/vitest"
import { storeAt } from "./support/database.js"
import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Layer, Queue, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Catalog, Entities, Ingestion, Sandboxes, StoreEvents, SystemJobs } from "../src/index.js"

const owner: SystemJobs.Owner = { sandbox: "prod", sandboxId: "prod-sandbox-id", imsOrgId: "TEST@AdobeOrg" }
const ecid = (n: number) => String(n).padStart(38, "0")

const dataset = (name: string, xdmClass: "profile" | "experienceevent", sandbox = "prod") =>
  Effect.flatMap(Catalog.Catalog, (catalog) =>
    catalog.create(sandbox, {
      name,
      schemaRef: {
        id:
          xdmClass === "profile"
            ? "https://ns.adobe.com/xdm/context/profile"
            : "https://ns.adobe.com/xdm/context/experienceevent"
      },
      tags: { unifiedProfile: ["enabled:true"] }
    })
  ).pipe(Effect.orDie)

const ingest = (datasetId: string, records: ReadonlyArray<unknown>, sandbox = "prod") =>
  Effect.flatMap(Ingestion.Ingestion, (ingestion) => ingestion.ingestRecords(sandbox, datasetId, records)).pipe(Effect.orDie)

const crm = (i: number) => ({
  _id: `crm-${i}`,
  identityMap: { CRMID: [{ id: `c${i}`, primary: true }], Email: [{ id: `p${i}@example.com` }] },
  person: { name: { firstName: `First${i}` } }
})

const loyalty = (i: number) => ({
  _id: `loyalty-${i}`,
  identityMap: { LoyaltyId: [{ id: `L${i}`, primary: true }], Email: [{ id: `p${i}@example.com` }] },
  loyalty: { tier: "gold" }
})

const pageView = (id: string, i: number, minute: number) => ({
  _id: id,
  timestamp: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(),
  eventType: "web.webpagedetails.pageViews",
  identityMap: { ECID: [{ id: ecid(i), primary: true }], Email: [{ id: `p${i}@example.com` }] }
})

const count = (table: "fragments" | "events", datasetId: string, batchId?: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    (batchId === undefined
      ? sql`SELECT COUNT(*) AS n FROM ${sql(table)} WHERE dataset_id = ${datasetId}`
      : sql`SELECT COUNT(*) AS n FROM ${sql(table)} WHERE dataset_id = ${datasetId} AND batch_id = ${batchId}`
    ).pipe(Effect.map((rows) => Number((rows[0] as any).n)))
  ).pipe(Effect.orDie)

const profile = (namespace: string, value: string) =>
  Effect.flatMap(Entities.Entities, (entities) =>
    entities.getProfile("prod", { identity: { namespace: namespace.toLowerCase(), id: value }, schemaName: "_xdm.context.profile" })
  )

const events = (namespace: string, value: string) =>
  Effect.flatMap(Entities.Entities, (entities) => entities.getEvents("prod", { identity: { namespace: namespace.toLowerCase(), id: value } }))

const runJob = (input: SystemJobs.CreateInput) =>
  Effect.gen(function* () {
    const jobs = yield* SystemJobs.SystemJobs
    const job = yield* jobs.create(owner, input)
    return yield* jobs.await("prod", job.id)
  })

type Settings = ReturnType<typeof SystemJobs.Settings.defaultValue>

/** A store (in memory unless `directory`) whose system jobs run with `settings`. */
const store = (settings?: Partial<Settings>, directory = ":memory:") => {
  const base = storeAt(directory)
  return settings === undefined
    ? base
    : base.pipe(Layer.provide(Layer.succeed(SystemJobs.Settings, { ...SystemJobs.Settings.defaultValue(), ...settings })))
}

/** Settings whose jobs stop after their first chunk until `release` is completed; `reached` gets the job then. */
const gated = Effect.gen(function* () {
  const reached = yield* Queue.unbounded<SystemJobs.Job>()
  const release = yield* Deferred.make<void>()
  const settings: Partial<Settings> = {
    chunkSize: 3,
    afterChunk: (job) => Effect.zipRight(Queue.offer(reached, job), Deferred.await(release))
  }
  return { reached, release, settings }
})

describe("SystemJobs engine", () => {
  it.effect("TRUNCATE_DATASET of a record dataset removes its fragments; profiles keep their other sources or disappear", () =>
    Effect.gen(function* () {
      const crmSet = yield* dataset("CRM", "profile")
      const loyaltySet = yield* dataset("Loyalty", "profile")
      yield* ingest(crmSet.id, [1, 2, 3, 4, 5].map(crm))
      yield* ingest(loyaltySet.id, [loyalty(1)])
      expect((yield* profile("email", "p1@example.com")).body.sources).toHaveLength(2)

      const bus = yield* StoreEvents.StoreEvents
      const published = yield* bus.subscribe

      const job = yield* runJob({ datasetId: crmSet.id })
      expect(job.status).toBe("SUCCESS")
      expect(job.requestType).toBe("TRUNCATE_DATASET")
      expect(job.fragmentsTotal).toBe(5)
      expect(job.fragmentsDeleted).toBe(5)
      expect(job.eventsDeleted).toBe(0)
      expect(job.profilesAffected).toBe(5)
      expect(yield* count("fragments", crmSet.id)).toBe(0)
      expect(yield* count("fragments", loyaltySet.id)).toBe(1)

      // p1 still has its loyalty fragment; p2 has nothing left.
      const p1 = yield* profile("email", "p1@example.com")
      expect(p1.body.sources).toEqual([loyaltySet.id])
      expect(p1.body.entity.person).toBeUndefined()
      const p2 = yield* Effect.flip(profile("CRMID", "c2"))
      expect(p2._tag).toBe("ProfileNotFound")

      const event = yield* Queue.take(published)
      expect(event._tag).toBe("DataDeleted")

      expect(job).toMatchObject({
        requestType: "TRUNCATE_DATASET",
        imsOrgId: owner.imsOrgId,
        sandbox: "prod",
        sandboxId: owner.sandboxId,
        status: "SUCCESS",
        datasetId: crmSet.id,
        fragmentsDeleted: 5,
        eventsDeleted: 0,
        profilesAffected: 5,
        fragmentsTotal: 5
      })
      expect(SystemJobs.progressOf(job)).toBe(100)
      expect(job.batchId).toBeUndefined()
      expect(SystemJobs.isoMicros(job.createdAt)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    }).pipe(Effect.scoped, Effect.provide(store()))
  )

  it.effect("TRUNCATE_DATASET of an experience event dataset removes its events, in chunks, with exact counts", () =>
    Effect.gen(function* () {
      const crmSet = yield* dataset("CRM", "profile")
      const web = yield* dataset("Web", "experienceevent")
      const other = yield* dataset("Other web", "experienceevent")
      yield* ingest(crmSet.id, [crm(1)])
      yield* ingest(web.id, Array.from({ length: 23 }, (_, n) => pageView(`w${n}`, 1 + (n % 2), n)))
      yield* ingest(other.id, [pageView("o1", 1, 30)])
      expect((yield* events("email", "p1@example.com")).events).toHaveLength(13)

      const job = yield* runJob({ datasetId: web.id })
      expect(job).toMatchObject({ status: "SUCCESS", eventsTotal: 23, eventsDeleted: 23, fragmentsDeleted: 0, profilesAffected: 2 })
      expect(yield* count("events", web.id)).toBe(0)
      expect(yield* count("events", other.id)).toBe(1)
      expect((yield* events("email", "p1@example.com")).events.map((e) => e.entityId)).toEqual(["o1"])
      // p2 had only events: with them gone the profile is gone too.
      expect((yield* Effect.flip(profile("email", "p2@example.com")))._tag).toBe("ProfileNotFound")
      // Identities are Identity Service data: the graph is still there.
      expect((yield* profile("ECID", ecid(1))).body.sources).toEqual([crmSet.id])
    }).pipe(Effect.provide(store({ chunkSize: 4 })))
  )

  it.effect("DELETE_EE_BATCH removes only that batch's events", () =>
    Effect.gen(function* () {
      const web = yield* dataset("Web", "experienceevent")
      const first = yield* ingest(web.id, [pageView("a1", 1, 1), pageView("a2", 1, 2), pageView("a3", 2, 3)])
      const second = yield* ingest(web.id, [pageView("b1", 1, 4), pageView("b2", 2, 5)])

      const job = yield* runJob({ datasetId: web.id, batchId: first.id })
      expect(job).toMatchObject({ status: "SUCCESS", requestType: "DELETE_EE_BATCH", batchId: first.id, eventsDeleted: 3, eventsTotal: 3 })
      expect(yield* count("events", web.id, first.id)).toBe(0)
      expect(yield* count("events", web.id, second.id)).toBe(2)
      expect((yield* events("email", "p1@example.com")).events.map((e) => e.entityId)).toEqual(["b1"])
      expect(job).toMatchObject({ datasetId: web.id, batchId: first.id })

      // The batch alone (older guides) names its dataset.
      const byBatch = yield* runJob({ batchId: second.id })
      expect(byBatch).toMatchObject({ status: "SUCCESS", datasetId: web.id, eventsDeleted: 2 })
      expect(yield* count("events", web.id)).toBe(0)
    }).pipe(Effect.provide(store()))
  )

  it.effect("refuses what cannot be deleted as asked and records nothing", () =>
    Effect.gen(function* () {
      const jobs = yield* SystemJobs.SystemJobs
      const crmSet = yield* dataset("CRM", "profile")
      const web = yield* dataset("Web", "experienceevent")
      const records = yield* ingest(crmSet.id, [crm(1)])
      const batch = yield* ingest(web.id, [pageView("e1", 1, 1)])

      const recordBatch = yield* Effect.flip(jobs.create(owner, { datasetId: crmSet.id, batchId: records.id }))
      expect(recordBatch).toMatchObject({ _tag: "DeletionRefused", reason: "RecordBatch", datasetId: crmSet.id })
      expect(recordBatch.message).toContain(crmSet.id)

      const unknownDataset = yield* Effect.flip(jobs.create(owner, { datasetId: "nope" }))
      expect(unknownDataset).toMatchObject({ _tag: "DeletionRefused", reason: "NotAsStored" })
      expect(unknownDataset.message).toContain('Dataset "nope" does not exist')

      const unknownBatch = yield* Effect.flip(jobs.create(owner, { datasetId: web.id, batchId: "NOBATCH" }))
      expect(unknownBatch.message).toContain('Batch "NOBATCH" does not exist')

      const wrongDataset = yield* Effect.flip(jobs.create(owner, { datasetId: crmSet.id, batchId: batch.id }))
      expect(wrongDataset.message).toContain(`belongs to dataset "${web.id}"`)

      const otherSandbox = yield* Effect.flip(jobs.create({ ...owner, sandbox: "dev" }, { datasetId: crmSet.id }))
      expect(otherSandbox.message).toContain('does not exist in sandbox "dev"')

      expect((yield* jobs.list("prod")).jobs).toHaveLength(0)
      expect(yield* count("fragments", crmSet.id)).toBe(1)
      expect(yield* count("events", web.id)).toBe(1)
    }).pipe(Effect.provide(store()))
  )

  it.effect("one active request per dataset or batch; a NEW job can be cancelled, a running one finishes unseen", () =>
    Effect.gen(function* () {
      const gate = yield* gated
      return yield* Effect.gen(function* () {
        const jobs = yield* SystemJobs.SystemJobs
        const crmSet = yield* dataset("CRM", "profile")
        const other = yield* dataset("Other", "profile")
        yield* ingest(crmSet.id, Array.from({ length: 10 }, (_, i) => crm(i)))
        yield* ingest(other.id, Array.from({ length: 4 }, (_, i) => crm(100 + i)))

        const running = yield* jobs.create(owner, { datasetId: crmSet.id })
        const halfway = yield* Queue.take(gate.reached)
        expect(halfway).toMatchObject({ status: "IN-PROGRESS", fragmentsDeleted: 3, fragmentsTotal: 10 })
        expect(SystemJobs.progressOf(halfway)).toBe(30)

        const duplicate = yield* Effect.flip(jobs.create(owner, { datasetId: crmSet.id }))
        expect(duplicate._tag).toBe("Refused")
        expect(duplicate.message).toContain("already exists")
        expect(duplicate.message).toContain(running.id)

        // Queued behind the running job: still NEW, so removing it cancels it.
        const queued = yield* jobs.create(owner, { datasetId: other.id })
        expect(queued.status).toBe("NEW")
        yield* jobs.remove("prod", queued.id)
        expect((yield* Effect.flip(jobs.get("prod", queued.id)))._tag).toBe("SystemJobNotFound")
        expect((yield* Effect.flip(jobs.remove("prod", queued.id)))._tag).toBe("SystemJobNotFound")

        // Removing the running job hides it at once; it still finishes.
        yield* jobs.remove("prod", running.id)
        expect((yield* Effect.flip(jobs.get("prod", running.id)))._tag).toBe("SystemJobNotFound")
        expect((yield* jobs.list("prod")).jobs).toHaveLength(0)
        // A new request for the dataset is accepted (the hidden one is not shown as active).
        const again = yield* jobs.create(owner, { datasetId: crmSet.id })
        yield* Deferred.succeed(gate.release, undefined)
        const done = yield* jobs.await("prod", again.id)
        expect(done.status).toBe("SUCCESS")
        expect(yield* count("fragments", crmSet.id)).toBe(0)
        expect(yield* count("fragments", other.id)).toBe(4)
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql`SELECT id FROM system_jobs`
        expect(rows.map((row: any) => row.id)).toEqual([again.id])
      }).pipe(Effect.provide(store(gate.settings)))
    })
  )

  it.effect("keeps data ingested after the request was made", () =>
    Effect.gen(function* () {
      const gate = yield* gated
      return yield* Effect.gen(function* () {
        const jobs = yield* SystemJobs.SystemJobs
        const crmSet = yield* dataset("CRM", "profile")
        yield* ingest(crmSet.id, Array.from({ length: 6 }, (_, i) => crm(i)))
        const job = yield* jobs.create(owner, { datasetId: crmSet.id })
        yield* Queue.take(gate.reached)
        yield* TestClock.adjust("1 second")
        yield* ingest(crmSet.id, [crm(50)])
        yield* Deferred.succeed(gate.release, undefined)
        const done = yield* jobs.await("prod", job.id)
        expect(done).toMatchObject({ status: "SUCCESS", fragmentsDeleted: 6 })
        expect((yield* profile("CRMID", "c50")).body.sources).toEqual([crmSet.id])
        expect((yield* Effect.flip(profile("CRMID", "c1")))._tag).toBe("ProfileNotFound")
      }).pipe(Effect.provide(store(gate.settings)))
    })
  )

  it.effect("lists newest first, pages by page number, at most 100", () =>
    Effect.gen(function* () {
      const jobs = yield* SystemJobs.SystemJobs
      const web = yield* dataset("Web", "experienceevent")
      const ids: Array<string> = []
      for (let i = 0; i < 105; i++) {
        const batch = yield* ingest(web.id, [pageView(`e${i}`, 1, i)])
        ids.push((yield* jobs.create(owner, { datasetId: web.id, batchId: batch.id })).id)
        yield* TestClock.adjust("1 millis")
      }
      const newest = [...ids].reverse()
      const first = yield* jobs.list("prod", { limit: 10 })
      expect(first).toMatchObject({ start: 0, limit: 10, totalCount: 100, next: 1 })
      expect(first.jobs.map((j) => j.id)).toEqual(newest.slice(0, 10))
      const second = yield* jobs.list("prod", { start: 1, limit: 10 })
      expect(second.jobs.map((j) => j.id)).toEqual(newest.slice(10, 20))
      const last = yield* jobs.list("prod", { start: 9, limit: 10 })
      expect(last.jobs.map((j) => j.id)).toEqual(newest.slice(90, 100))
      expect(last.next).toBeUndefined()
      expect((yield* jobs.list("prod", { start: 10, limit: 10 })).jobs).toHaveLength(0)
      const all = yield* jobs.list("prod")
      expect(all.jobs).toHaveLength(100)
      const oldestFirst = yield* jobs.list("prod", { sort: "createdAt:asc", limit: 3 })
      expect(oldestFirst.jobs.map((j) => j.id)).toEqual(ids.slice(5, 8))
      for (const bad of [{ limit: 0 }, { limit: 101 }, { start: -1 }, { start: 1.5 }, { sort: "name:asc" }]) {
        expect((yield* Effect.flip(jobs.list("prod", bad)))._tag).toBe("InvalidInput")
      }
      // Other sandboxes see none of them.
      yield* Effect.flatMap(Sandboxes.Sandboxes, (s) => s.create({ name: "dev" }))
      expect((yield* jobs.list("dev")).totalCount).toBe(0)
      expect((yield* Effect.flip(jobs.get("dev", ids[0]!)))._tag).toBe("SystemJobNotFound")
    }).pipe(Effect.provide(store()))
  )

  it.live("a job interrupted by a restart resumes from the job table and completes", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-system-jobs-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(directory, { recursive: true, force: true })))
      const gate = yield* gated

      // First life: 50 profiles, chunks of 3; the job stops after one chunk and the store shuts down.
      const { crashed, datasetId, jobId } = yield* Effect.gen(function* () {
        const jobs = yield* SystemJobs.SystemJobs
        const crmSet = yield* dataset("CRM", "profile")
        yield* ingest(crmSet.id, Array.from({ length: 50 }, (_, i) => crm(i)))
        const job = yield* jobs.create(owner, { datasetId: crmSet.id })
        yield* Queue.take(gate.reached)
        const halfway = yield* jobs.get("prod", job.id)
        expect(halfway).toMatchObject({ status: "IN-PROGRESS", fragmentsDeleted: 3 })
        expect(yield* count("fragments", crmSet.id)).toBe(47)

        // A crash between a claim and its first chunk leaves a job IN-PROGRESS with nothing counted yet.
        const sql = yield* SqlClient.SqlClient
        const web = yield* dataset("Web", "experienceevent")
        yield* ingest(web.id, [pageView("x1", 1, 1), pageView("x2", 2, 2)])
        const now = Date.now()
        yield* sql`INSERT INTO system_jobs ${sql.insert({
          sandbox: "prod", id: "crashed-job", request_type: "TRUNCATE_DATASET", dataset_id: web.id, batch_id: null,
          status: "IN-PROGRESS", ims_org_id: owner.imsOrgId, sandbox_id: owner.sandboxId, fragments_total: null,
          events_total: null, profiles_affected: null, fragments_deleted: 0, events_deleted: 0, error: null, removed: 0,
          created_at: now, updated_at: now, started_at: now, completed_at: null
        })}`.pipe(Effect.orDie)
        return { datasetId: crmSet.id, jobId: job.id, crashed: web.id }
      }).pipe(Effect.provide(store(gate.settings, directory)))

      // Second life: both jobs resume on their own.
      yield* Effect.gen(function* () {
        const jobs = yield* SystemJobs.SystemJobs
        const done = yield* jobs.await("prod", jobId)
        expect(done).toMatchObject({ status: "SUCCESS", fragmentsTotal: 50, fragmentsDeleted: 50 })
        expect(yield* count("fragments", datasetId)).toBe(0)
        expect((yield* Effect.flip(profile("CRMID", "c7")))._tag).toBe("ProfileNotFound")
        const resumed = yield* jobs.await("prod", "crashed-job")
        expect(resumed).toMatchObject({ status: "SUCCESS", eventsDeleted: 2, eventsTotal: 2 })
        expect(yield* count("events", crashed)).toBe(0)
      }).pipe(Effect.provide(store(undefined, directory)))
    }).pipe(Effect.scoped)
  )
})
