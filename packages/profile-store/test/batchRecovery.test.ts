/**
 * A batch found `processing` when the store starts was cut off by a crash:
 * it is processed again from its files, or failed with a reason; never left
 * in between.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Ingestion, JobLeases, ProfileStore } from "../src/index.js"
import { dialect, storeAt } from "./support/database.js"
import { dataset, person } from "./support/store.js"

const settle = (batchId: string) =>
  Effect.gen(function* () {
    const ingestion = yield* Ingestion.Ingestion
    for (let i = 0; i < 500; i++) {
      const batch = yield* ingestion.getBatch("prod", batchId)
      if (batch.status !== "processing") return batch
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.dieMessage(`batch ${batchId} stayed processing`)
  })

describe("batches left processing", () => {
  it.live("are processed again from their files, or failed with a reason, when the store starts", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-recover-"))
      const store = () => Layer.fresh(ProfileStore.layerSqlite({ directory }))
      // First life: a batch with a file, completed, and one ingested without files; both cut off while processing.
      const { withFiles, withoutFiles } = yield* Effect.gen(function* () {
        const ingestion = yield* Ingestion.Ingestion
        const sql = yield* SqlClient.SqlClient
        const crm = yield* dataset("CRM", "profile")
        const batch = yield* ingestion.createBatch("prod", { datasetId: crm.id })
        const records = [person([["CRMID", "a"]], { person: { name: { firstName: "A" } } }), person([["CRMID", "b"]])]
        yield* ingestion.uploadFile("prod", batch.id, crm.id, "crm.json", records.map((r) => JSON.stringify(r)).join("\n"))
        const seeded = yield* ingestion.ingestRecords("prod", crm.id, [person([["CRMID", "c"]])])
        // What a crash mid-processing leaves: the status written, the records' transaction never committed.
        yield* sql`UPDATE batches SET status = 'processing' WHERE id IN (${batch.id}, ${seeded.id})`
        return { withFiles: batch.id, withoutFiles: seeded.id }
      }).pipe(Effect.provide(store()))
      // Second life.
      yield* Effect.gen(function* () {
        const processed = yield* settle(withFiles)
        expect(processed).toMatchObject({ status: "success", recordsTotal: 2 })
        const failed = yield* settle(withoutFiles)
        expect(failed.status).toBe("failed")
        expect(failed.errors).toEqual([expect.objectContaining({ code: "RTCP-1004" })])
      }).pipe(Effect.provide(store()))
      rmSync(directory, { recursive: true, force: true })
    }))
})

/**
 * Several processes on one Postgres database: each store here is one
 * process (its own pool and lease owner) on the same schema.
 */
describe.skipIf(dialect !== "postgres")("batches left processing, with several processes on one database", () => {
  const leases = Layer.succeed(JobLeases.Settings, { lease: "5 seconds", poll: "100 millis" })
  const processOn = (directory: string) => Layer.fresh(storeAt(directory)).pipe(Layer.provide(leases))
  /** The messages this test's stores log. */
  const logged: Array<string> = []
  const logs = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ message }) => {
      logged.push(Array.isArray(message) ? message.join(" ") : String(message))
    })
  )
  const resumed = (batchId: string) => logged.filter((line) => line.includes(`resuming batch ${batchId}`)).length

  /** What a process processing them would have written. */
  const processing = (ids: ReadonlyArray<string>) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE batches SET status = 'processing' WHERE id IN ${sql.in(ids)}`)

  /** A batch with a file and one ingested from records. */
  const batches = Effect.gen(function* () {
    const ingestion = yield* Ingestion.Ingestion
    const crm = yield* dataset("CRM", "profile")
    const batch = yield* ingestion.createBatch("prod", { datasetId: crm.id })
    const records = [person([["CRMID", "a"]]), person([["CRMID", "b"]])]
    yield* ingestion.uploadFile("prod", batch.id, crm.id, "crm.json", records.map((r) => JSON.stringify(r)).join("\n"))
    const seeded = yield* ingestion.ingestRecords("prod", crm.id, [person([["CRMID", "c"]])])
    return { withFiles: batch.id, withoutFiles: seeded.id }
  })

  /** Both left `processing` by a process that died. */
  const cutOff = Effect.tap(batches, ({ withFiles, withoutFiles }) => processing([withFiles, withoutFiles]))

  it.live("two processes starting at once: one of them processes the batch, once", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-recover-two-"))
      const { withFiles, withoutFiles } = yield* cutOff.pipe(Effect.provide(processOn(directory)))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [a] = yield* Effect.all([Layer.build(processOn(directory)), Layer.build(processOn(directory))], { concurrency: 2 })
          const settled = yield* settle(withFiles).pipe(Effect.provide(a))
          expect(settled).toMatchObject({ status: "success", recordsTotal: 2 })
          const failed = yield* settle(withoutFiles).pipe(Effect.provide(a))
          expect(failed.errors).toEqual([expect.objectContaining({ code: "RTCP-1004" })])
        })
      )
      expect(resumed(withFiles)).toBe(1)
      rmSync(directory, { recursive: true, force: true })
    }).pipe(Effect.provide(logs)))

  it.live("a batch its live process is processing is left to it; when that process stops, another takes it over", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-recover-live-"))
      const { withFiles, withoutFiles } = yield* batches.pipe(Effect.provide(processOn(directory)))
      yield* Effect.scoped(
        Effect.gen(function* () {
          // Process A holds both batches' leases, as while it processes them
          // (its own leases, apart from its store's, which would claim them again).
          const lifeOfA = yield* Scope.make()
          const a = yield* Layer.buildWithScope(processOn(directory), lifeOfA)
          const holder = yield* Effect.provide(JobLeases.JobLeases, yield* Layer.buildWithScope(JobLeases.layer.pipe(Layer.provide(leases)), lifeOfA).pipe(Effect.provide(a)))
          yield* Effect.forkIn(
            Effect.all(
              [withFiles, withoutFiles].map((id) => holder.withLease(`batch:prod:${id}`, Effect.never)),
              { concurrency: "unbounded" }
            ),
            lifeOfA
          )
          for (const id of [withFiles, withoutFiles]) {
            while (!(yield* holder.holds(`batch:prod:${id}`))) yield* Effect.sleep("10 millis")
          }
          yield* processing([withFiles, withoutFiles]).pipe(Effect.provide(a))
          // Process B starts: it leaves both alone.
          const b = yield* Layer.build(processOn(directory))
          const ingestion = yield* Effect.provide(Ingestion.Ingestion, b)
          expect((yield* ingestion.getBatch("prod", withFiles)).status).toBe("processing")
          expect((yield* ingestion.getBatch("prod", withoutFiles)).status).toBe("processing")
          expect(resumed(withFiles)).toBe(0)
          // A stops (its leases are released as it goes): B takes both over.
          yield* Scope.close(lifeOfA, Exit.void)
          expect(yield* settle(withFiles).pipe(Effect.provide(b))).toMatchObject({ status: "success", recordsTotal: 2 })
          const failed = yield* settle(withoutFiles).pipe(Effect.provide(b))
          expect(failed.errors).toEqual([expect.objectContaining({ code: "RTCP-1004" })])
        })
      )
      expect(resumed(withFiles)).toBe(1)
      rmSync(directory, { recursive: true, force: true })
    }).pipe(Effect.provide(logs)))
})
