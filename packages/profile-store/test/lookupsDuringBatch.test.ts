import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { Entities, Ingestion } from "../src/index.js"
import { dialect } from "./support/database.js"
import { dataset, ingest, person, storeInFolder } from "./support/store.js"

const lookup = Effect.flatMap(Entities.Entities, (entities) =>
  entities.getProfile("prod", { identity: { namespace: "crmid", id: "c0" }, schemaName: "_xdm.context.profile" })
)

describe("lookups while a batch is processed", () => {
  // A store in a folder: lookups read on a connection of their own (LookupRows.layerFile).
  it.live.skipIf(dialect !== "sqlite")("are answered from what was committed before it, without waiting for its transaction", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      yield* ingest(crm.id, [person([["CRMID", "c0"]], { version: 1 })])
      const ingestion = yield* Ingestion.Ingestion
      const batch = yield* ingestion.createBatch("prod", { datasetId: crm.id })
      // The batch's first record changes c0; the rest make it long enough to be caught in the middle.
      const records = [person([["CRMID", "c0"]], { version: 2 })]
      for (let i = 1; i < 20_000; i++) records.push(person([["CRMID", `c${i}`], ["Email", `p${i}@example.com`]], { version: 2 }))
      yield* ingestion.uploadFile("prod", batch.id, crm.id, "records.json", records.map((record) => JSON.stringify(record)).join("\n"))
      yield* ingestion.complete("prod", batch.id)
      // Asked right after the batch started: the batch has not committed, and the lookup does not wait for it.
      expect((yield* lookup).body.entity).toMatchObject({ version: 1 })
      yield* ingestion.getBatch("prod", batch.id).pipe(
        Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (b) => b.status !== "processing" }),
        Effect.timeout("60 seconds")
      )
      expect((yield* ingestion.getBatch("prod", batch.id)).status).toBe("success")
      expect((yield* lookup).body.entity).toMatchObject({ version: 2 })
    }).pipe(Effect.provide(storeInFolder()))
  )
})
