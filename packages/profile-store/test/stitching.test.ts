import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Entities, IdentityGraph } from "../src/index.js"
import { dataset, ecid, event, ingest, person, store } from "./support/store.js"

const profile = (namespace: string, value: string) =>
  Effect.flatMap(Entities.Entities, (entities) =>
    entities.getProfile("prod", { identity: { namespace: namespace.toLowerCase(), id: value }, schemaName: "_xdm.context.profile" })
  )

const graphOf = (namespace: string, value: string) =>
  Effect.gen(function* () {
    const graph = yield* IdentityGraph.IdentityGraph
    const row = yield* graph.find("prod", namespace.toLowerCase(), value)
    return yield* graph.members(row.pipe((o) => (o._tag === "Some" ? o.value.graphId : -1)))
  })

describe("identity graphs", () => {
  it.effect("links identities seen together, transitively and across datasets and batches", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      const web = yield* dataset("Web", "experienceevent")
      yield* ingest(crm.id, [person([["CRMID", "c1"], ["Email", "a@x.com"]], { person: { name: { firstName: "A" } } })])
      yield* ingest(web.id, [event("e1", 1, [["ECID", ecid(1)], ["Email", "a@x.com"]])])
      yield* ingest(web.id, [event("e2", 2, [["ECID", ecid(2)], ["ECID", ecid(1)]])])
      const members = yield* graphOf("ecid", ecid(2))
      expect(members.map((m) => `${m.ns}:${m.value}`).sort()).toEqual(
        [`crmid:c1`, `ecid:${ecid(1)}`, `ecid:${ecid(2)}`, `email:a@x.com`].sort()
      )
      const viaDevice = yield* profile("ECID", ecid(2))
      const viaCrm = yield* profile("crmid", "c1")
      expect(viaDevice.xid).toBe(viaCrm.xid)
      expect((viaDevice.body.entity as any).person.name.firstName).toBe("A")
    }).pipe(Effect.provide(store()))
  )

  it.effect("merging two large graphs keeps the larger graph's XID and applies the 50-identity limit", () =>
    Effect.gen(function* () {
      const web = yield* dataset("Web", "experienceevent")
      // Two chains: 30 and 25 devices, each chain linked through one email.
      const chain = (email: string, from: number, count: number) =>
        Array.from({ length: count }, (_, i) => event(`${email}-${i}`, i, [["ECID", ecid(from + i)], ["Email", email]]))
      yield* ingest(web.id, chain("big@x.com", 1000, 30))
      yield* ingest(web.id, chain("small@x.com", 2000, 15))
      const big = yield* profile("email", "big@x.com")
      const small = yield* profile("email", "small@x.com")
      expect(big.xid).not.toBe(small.xid)
      // One event linking both graphs: 31 + 16 = 47 identities, still under the limit.
      yield* ingest(web.id, [event("bridge", 99, [["ECID", ecid(1000)], ["Email", "small@x.com"]])])
      const merged = yield* profile("email", "small@x.com")
      expect(merged.xid).toBe(big.xid)
      expect((yield* graphOf("email", "small@x.com")).length).toBe(47)
      // Four more devices: 51 identities, lookups answer 422 as AEP does.
      yield* ingest(web.id, chain("big@x.com", 3000, 4))
      const error = yield* Effect.flip(profile("email", "big@x.com"))
      expect(error).toMatchObject({ _tag: "GraphTooLarge", count: 51, limit: 50 })
    }).pipe(Effect.provide(store()))
  )

  it.effect("stitching is incremental: a chunked batch links identities across its chunks", () =>
    Effect.gen(function* () {
      const web = yield* dataset("Web", "experienceevent")
      // 1,200 events form one chain ecid0 — ecid1 — … across the 500-record chunks.
      const events = Array.from({ length: 1200 }, (_, i) => event(`c${i}`, i, [["ECID", ecid(i)], ["ECID", ecid(i + 1)]]))
      yield* ingest(web.id, events)
      expect((yield* graphOf("ecid", ecid(0))).length).toBe(1201)
      expect((yield* graphOf("ecid", ecid(1200)))[0]!.graphId).toBe((yield* graphOf("ecid", ecid(0)))[0]!.graphId)
    }).pipe(Effect.provide(store()))
  )
})
