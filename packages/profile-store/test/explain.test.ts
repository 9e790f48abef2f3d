import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { Entities, Ingestion, Merge, MergePolicies, SystemJobs } from "../src/index.js"
import { dataset, ingest, person, store } from "./support/store.js"

const jane = { namespace: "email", id: "jane@x.com" }

/** Every leaf of a merged entity but the identities, by dot path. */
const leaves = (value: unknown, prefix = ""): Array<[string, unknown]> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? Object.entries(value).flatMap(([key, child]) =>
        prefix === "" && (key === "identityMap" || key === "identities") ? [] : leaves(child, prefix === "" ? key : `${prefix}.${key}`)
      )
    : [[prefix, value]]

/** CRM (older), then loyalty (newer, upsert) records of one person linked through the email, then a streamed device. */
const janeDoe = Effect.gen(function* () {
  const crm = yield* dataset("CRM", "profile")
  const loyalty = yield* dataset("Loyalty", "profile", { upsert: true })
  const crmBatch = yield* ingest(crm.id, [
    person([["CRMID", "c1"], ["Email", "jane@x.com"]], { person: { name: { firstName: "Jane", lastName: "Doe" } }, homeAddress: { city: "San Jose" }, tags: ["a"] })
  ])
  yield* TestClock.adjust("1 hour")
  const loyaltyBatch = yield* ingest(loyalty.id, [
    person([["LoyaltyId", "L1"], ["Email", "jane@x.com"]], { person: { name: { firstName: "Janie" } }, loyalty: { tier: "gold" }, tags: ["b", "c"] })
  ])
  yield* TestClock.adjust("1 hour")
  const ingestion = yield* Ingestion.Ingestion
  yield* ingestion.streamRecord("prod", loyalty.id, person([["LoyaltyId", "L1"], ["Phone", "+1555"]], { loyalty: { points: 10 } }))
  return { crm, loyalty, crmBatch, loyaltyBatch }
})

/** The explanation and the merged profile under one policy agree on every attribute. */
const agree = (mergePolicyId: string | undefined) =>
  Effect.gen(function* () {
    const entities = yield* Entities.Entities
    const profile = yield* entities.getProfile("prod", { identity: jane, schemaName: "_xdm.context.profile", mergePolicyId })
    const explanation = yield* entities.explainProfile("prod", { identity: jane, mergePolicyId })
    expect(explanation.xid).toBe(profile.xid)
    const explained = new Map(explanation.attributes.map((a) => [a.path, a.value] as const))
    expect(new Map(leaves(profile.body.entity))).toEqual(explained)
    return explanation
  })

describe("explain a merged profile", () => {
  it.effect("timestampOrdered: every attribute comes from the fragment the merge applied last, with the values it beat", () =>
    Effect.gen(function* () {
      const { crm, loyalty, crmBatch, loyaltyBatch } = yield* janeDoe
      const explanation = yield* agree(undefined)
      expect(explanation.policy.attributeMerge.type).toBe("timestampOrdered")
      const byPath = new Map(explanation.attributes.map((a) => [a.path, a] as const))
      const first = byPath.get("person.name.firstName")!
      expect(first.value).toBe("Janie")
      // Provenance is per fragment: the streamed record upserted the loyalty fragment, so the stream (no batch) is its source now.
      expect(first.source).toMatchObject({ datasetId: loyalty.id, datasetName: "Loyalty", batchId: undefined, ingestedAt: 7_200_000 })
      expect(first.beaten).toEqual([{ value: "Jane", source: expect.objectContaining({ datasetId: crm.id, batchId: crmBatch.id, ingestedAt: 0 }) }])
      expect(byPath.get("person.name.lastName")).toMatchObject({ value: "Doe", source: { datasetId: crm.id }, beaten: [] })
      // Arrays are one value.
      expect(byPath.get("tags")).toMatchObject({ value: ["b", "c"], beaten: [{ value: ["a"] }] })
      // The streamed record merged into the loyalty fragment (upsert): the batch is now the stream's (none).
      expect(byPath.get("loyalty.points")).toMatchObject({ value: 10, source: { datasetId: loyalty.id, batchId: undefined, ingestedAt: 7_200_000 } })
      expect(loyaltyBatch.status).toBe("success")
    }).pipe(Effect.provide(store()))
  )

  it.effect("dataSetPrecedence: the first dataset of the order wins, whatever the times", () =>
    Effect.gen(function* () {
      const { crm, loyalty } = yield* janeDoe
      const policies = yield* MergePolicies.MergePolicies
      const crmFirst = yield* policies.create("prod", {
        name: "CRM first",
        schemaName: "_xdm.context.profile",
        identityGraph: "pdg",
        attributeMerge: { type: "dataSetPrecedence", order: [crm.id, loyalty.id] },
        isDefault: false,
        activeOnEdge: false
      })
      const explanation = yield* agree(crmFirst.id)
      const byPath = new Map(explanation.attributes.map((a) => [a.path, a] as const))
      expect(byPath.get("person.name.firstName")).toMatchObject({ value: "Jane", source: { datasetId: crm.id }, beaten: [{ value: "Janie" }] })
      expect(byPath.get("loyalty.tier")).toMatchObject({ value: "gold", source: { datasetId: loyalty.id } })
    }).pipe(Effect.provide(store()))
  )

  it.effect("explain replays the merge: objects replacing values and values replacing objects", () =>
    Effect.sync(() => {
      const fragment = (datasetId: string, ingestedAt: number, data: Record<string, unknown>) => ({ datasetId, ingestedAt, customTimestamp: null, data })
      const fragments = [
        fragment("a", 1, { x: { y: 1, z: 2 }, w: 5 }),
        fragment("b", 2, { x: 7, w: { v: 6 } }),
        fragment("c", 3, { x: { q: 8 } })
      ]
      const merged = Merge.merge(fragments, { type: "timestampOrdered" })
      const explained = Merge.explain(fragments, { type: "timestampOrdered" })
      expect(new Map(leaves(merged.entity))).toEqual(new Map(explained.map((a) => [a.path, a.value] as const)))
      const q = explained.find((a) => a.path === "x.q")!
      expect(q.beaten.map((b) => b.value).sort()).toEqual([1, 2, 7])
      expect(explained.find((a) => a.path === "w.v")!.beaten.map((b) => b.value)).toEqual([5])
    })
  )

  it.effect("the links that joined each identity: dataset, batch, first and last seen; stream links have no batch", () =>
    Effect.gen(function* () {
      const { crm, loyalty, crmBatch, loyaltyBatch } = yield* janeDoe
      const entities = yield* Entities.Entities
      const explanation = yield* entities.explainProfile("prod", { identity: jane })
      const byValue = new Map(explanation.identities.map((i) => [i.identity.value, i] as const))
      expect([...byValue.keys()].sort()).toEqual(["+1555", "L1", "c1", "jane@x.com"])
      // The primary identity keys the newest fragment: the loyalty one.
      expect(byValue.get("L1")).toMatchObject({ primary: true, link: undefined })
      expect(byValue.get("jane@x.com")!.link).toMatchObject({
        datasetId: loyalty.id,
        batchId: loyaltyBatch.id,
        linkedTo: { value: "L1" },
        firstSeen: 3_600_000,
        lastSeen: 3_600_000
      })
      expect(byValue.get("c1")!.link).toMatchObject({ datasetId: crm.id, batchId: crmBatch.id, linkedTo: { value: "jane@x.com" }, firstSeen: 0 })
      expect(byValue.get("+1555")!.link).toMatchObject({ datasetId: loyalty.id, batchId: undefined, linkedTo: { value: "L1" }, firstSeen: 7_200_000 })

      // A new batch linking the same pair is a link of its own; the earliest explains the join.
      yield* TestClock.adjust("1 hour")
      yield* ingest(crm.id, [person([["CRMID", "c1"], ["Email", "jane@x.com"]], { person: { name: { lastName: "Doe" } } })])
      const again = yield* entities.explainProfile("prod", { identity: jane })
      expect(again.identities.find((i) => i.identity.value === "c1")).toMatchObject({ primary: true, link: undefined })
      expect(again.identities.find((i) => i.identity.value === "jane@x.com")!.link).toMatchObject({
        datasetId: crm.id,
        batchId: crmBatch.id,
        linkedTo: { value: "c1" },
        firstSeen: 0
      })
      // Streamed again: the same link (dataset, no batch) is seen again, so its last seen moves and its first seen stays.
      yield* TestClock.adjust("1 hour")
      const ingestion = yield* Ingestion.Ingestion
      yield* ingestion.streamRecord("prod", loyalty.id, person([["LoyaltyId", "L1"], ["Phone", "+1555"]], { loyalty: { points: 11 } }))
      const streamed = yield* entities.explainProfile("prod", { identity: jane })
      expect(streamed.identities.find((i) => i.identity.value === "+1555")!.link).toMatchObject({
        batchId: undefined,
        firstSeen: 7_200_000,
        lastSeen: 14_400_000
      })
    }).pipe(Effect.provide(store()))
  )

  it.effect("deleting a dataset deletes the links it brought; the others survive", () =>
    Effect.gen(function* () {
      const { crm, loyalty } = yield* janeDoe
      const sql = yield* SqlClient.SqlClient
      const linksOf = (datasetId: string) =>
        Effect.map(sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM identity_links WHERE dataset_id = ${datasetId}`, (rows) => Number(rows[0]!.n))
      expect(yield* linksOf(crm.id)).toBe(1)
      expect(yield* linksOf(loyalty.id)).toBe(2)
      const jobs = yield* SystemJobs.SystemJobs
      const job = yield* jobs.create({ sandbox: "prod", sandboxId: "s", imsOrgId: "org@AdobeOrg" }, { datasetId: crm.id })
      expect((yield* jobs.await("prod", job.id)).status).toBe("SUCCESS")
      expect(yield* linksOf(crm.id)).toBe(0)
      expect(yield* linksOf(loyalty.id)).toBe(2)
      // The graph is not split: c1 is still a member, explained without a link.
      const entities = yield* Entities.Entities
      const explanation = yield* entities.explainProfile("prod", { identity: jane })
      expect(explanation.identities.find((i) => i.identity.value === "c1")).toMatchObject({ link: undefined })
      expect(explanation.attributes.every((a) => a.source.datasetId === loyalty.id)).toBe(true)
    }).pipe(Effect.provide(store()))
  )

  it.effect("an unknown identity is ProfileNotFound, as the lookup", () =>
    Effect.gen(function* () {
      yield* janeDoe
      const entities = yield* Entities.Entities
      expect((yield* Effect.flip(entities.explainProfile("prod", { identity: { namespace: "email", id: "nobody@x.com" } })))._tag).toBe("ProfileNotFound")
    }).pipe(Effect.provide(store()))
  )
})
