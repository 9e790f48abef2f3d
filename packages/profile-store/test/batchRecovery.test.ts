/**
 * A batch found `processing` when the store starts was cut off by a crash:
 * it is processed again from its files, or failed with a reason; never left
 * in between.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Ingestion, ProfileStore } from "../src/index.js"
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
