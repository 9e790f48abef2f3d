import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import { Entities, Ingestion, StoreEvents } from "../src/index.js"
import { dataset, ingest, person, store } from "./support/store.js"

const lookup = (namespace: string, value: string) =>
  Effect.flatMap(Entities.Entities, (entities) =>
    entities.getProfile("prod", { identity: { namespace: namespace.toLowerCase(), id: value }, schemaName: "_xdm.context.profile" })
  )

const upload = (datasetId: string, files: Record<string, string>, partial = false) =>
  Effect.gen(function* () {
    const ingestion = yield* Ingestion.Ingestion
    const batch = yield* ingestion.createBatch("prod", { datasetId, partialIngestion: partial })
    for (const [name, content] of Object.entries(files)) yield* ingestion.uploadFile("prod", batch.id, datasetId, name, content)
    return yield* ingestion.completeAndWait("prod", batch.id)
  })

describe("ingestion", () => {
  it.effect("a replace dataset replaces the fragment; an upsert dataset merges into it", () =>
    Effect.gen(function* () {
      const replace = yield* dataset("CRM", "profile")
      const upsert = yield* dataset("Loyalty", "profile", { upsert: true })
      yield* ingest(replace.id, [person([["CRMID", "c1"]], { a: 1, b: { x: 1, y: 1 } })])
      yield* ingest(replace.id, [person([["CRMID", "c1"]], { b: { x: 2 } })])
      expect((yield* lookup("CRMID", "c1")).body.entity).toMatchObject({ b: { x: 2 } })
      expect((yield* lookup("CRMID", "c1")).body.entity).not.toHaveProperty("a")

      yield* ingest(upsert.id, [person([["LoyaltyId", "l1"]], { a: 1, b: { x: 1, y: 1 } })])
      yield* ingest(upsert.id, [person([["LoyaltyId", "l1"], ["Email", "l@x"]], { b: { x: 2 } })])
      const merged = (yield* lookup("LoyaltyId", "l1")).body.entity as any
      expect(merged).toMatchObject({ a: 1, b: { x: 2, y: 1 } })
      expect(merged.identityMap.Email).toEqual([{ id: "l@x" }])
    }).pipe(Effect.provide(store()))
  )

  it.effect("a batch with an invalid record fails whole with a per-record report; nothing becomes visible", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      yield* ingest(crm.id, [person([["CRMID", "kept"]], { v: "before" })])
      const ndjson = [
        JSON.stringify(person([["CRMID", "kept"]], { v: "after" })),
        JSON.stringify(person([["CRMID", "new"]])),
        JSON.stringify({ identityMap: { ECID: [{ id: "not-an-ecid" }] } }),
        "{not json"
      ].join("\n")
      const batch = yield* upload(crm.id, { "part-1.ndjson": ndjson })
      expect(batch.status).toBe("failed")
      expect(batch.recordsFailed).toBe(2)
      expect(batch.errors.map((e) => [e.file, e.index])).toEqual([
        ["part-1.ndjson", 2],
        ["part-1.ndjson", 3]
      ])
      expect((yield* lookup("CRMID", "kept")).body.entity).toMatchObject({ v: "before" })
      expect((yield* Effect.flip(lookup("CRMID", "new")))._tag).toBe("ProfileNotFound")
    }).pipe(Effect.provide(store()))
  )

  it.effect("with partial ingestion the valid records are written and the others reported", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      const json = JSON.stringify([person([["CRMID", "ok"]]), { identityMap: {} }])
      const batch = yield* upload(crm.id, { "a.json": json }, true)
      expect(batch.status).toBe("success")
      expect(batch.recordsFailed).toBe(1)
      expect((yield* lookup("CRMID", "ok")).xid).toBeTypeOf("string")
    }).pipe(Effect.provide(store()))
  )

  it.effect("records of a dataset not enabled for Profile never reach the profile store", () =>
    Effect.gen(function* () {
      const lake = yield* dataset("Lake only", "profile", { enabled: false })
      const batch = yield* ingest(lake.id, [person([["CRMID", "lake"]])])
      expect(batch.status).toBe("success")
      expect((yield* Effect.flip(lookup("CRMID", "lake")))._tag).toBe("ProfileNotFound")
    }).pipe(Effect.provide(store()))
  )

  it.effect("a batch moves loading → processing → success in the background", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      const ingestion = yield* Ingestion.Ingestion
      const batch = yield* ingestion.createBatch("prod", { datasetId: crm.id })
      expect(batch.status).toBe("loading")
      yield* ingestion.uploadFile("prod", batch.id, crm.id, "a.json", JSON.stringify(person([["CRMID", "bg"]])))
      const closed = yield* ingestion.complete("prod", batch.id)
      expect(closed.status).toBe("processing")
      let status = closed.status as string
      while (status === "processing") {
        yield* TestClock.adjust("10 millis")
        yield* Effect.yieldNow()
        status = (yield* ingestion.getBatch("prod", batch.id)).status
      }
      expect(status).toBe("success")
      const again = yield* Effect.flip(ingestion.uploadFile("prod", batch.id, crm.id, "b.json", "{}"))
      expect(again.message).toMatch(/only be added while it is loading/)
    }).pipe(Effect.provide(store()))
  )

  it.effect("a sandbox is busy while one of its batches is processed, whether it succeeds or fails, and no other sandbox is", () =>
    Effect.gen(function* () {
      const events = yield* StoreEvents.StoreEvents
      const crm = yield* dataset("CRM", "profile")
      const seen: Array<readonly [boolean, boolean]> = []
      // Read between records: the batch is processing then.
      const records = function* (last: unknown) {
        yield person([["CRMID", "c1"]])
        seen.push([Effect.runSync(events.busy("prod")), Effect.runSync(events.busy("other"))])
        yield last
      }
      yield* ingest(crm.id, records(person([["CRMID", "c2"]])))
      const failed = yield* Effect.either(ingest(crm.id, records({ identityMap: {} })))
      expect(Either.isLeft(failed)).toBe(true)
      expect(seen).toEqual([
        [true, false],
        [true, false]
      ])
      expect(yield* events.busy("prod")).toBe(false)
      yield* events.settled("prod")
    }).pipe(Effect.provide(store()))
  )

  it.effect("sandboxes are isolated", () =>
    Effect.gen(function* () {
      const { Sandboxes } = yield* Effect.promise(() => import("../src/index.js"))
      const sandboxes = yield* Sandboxes.Sandboxes
      yield* sandboxes.create({ name: "dev" })
      const prodCrm = yield* dataset("CRM", "profile")
      const devCrm = yield* dataset("CRM", "profile", { sandbox: "dev" })
      yield* ingest(prodCrm.id, [person([["CRMID", "c1"]], { where: "prod" })])
      yield* ingest(devCrm.id, [person([["CRMID", "c1"]], { where: "dev" })], "dev")
      const entities = yield* Entities.Entities
      const dev = yield* entities.getProfile("dev", { identity: { namespace: "crmid", id: "c1" }, schemaName: "_xdm.context.profile" })
      expect(dev.body.entity).toMatchObject({ where: "dev" })
      expect((yield* lookup("CRMID", "c1")).body.entity).toMatchObject({ where: "prod" })
      // A dataset of one sandbox does not exist in another.
      const error = yield* Effect.flip(ingest(prodCrm.id, [person([["CRMID", "x"]])], "dev"))
      expect(error._tag).toBe("DatasetNotFound")
    }).pipe(Effect.provide(store()))
  )
})
