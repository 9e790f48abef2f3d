import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Entities, MergePolicies, type ProfileStore } from "../src/index.js"
import { dialect } from "./support/database.js"
import { dataset, ecid, event, ingest, person, store, storeInFolder } from "./support/store.js"

const profileQuery = (namespace: string | undefined, value: string, mergePolicyId?: string) => ({
  identity: { namespace: namespace?.toLowerCase(), id: value },
  schemaName: "_xdm.context.profile",
  ...(mergePolicyId ? { mergePolicyId } : {})
})

/** CRM (older) and loyalty (newer) records of one person, linked through the email. */
const janeDoe = Effect.gen(function* () {
  const crm = yield* dataset("CRM", "profile")
  const loyalty = yield* dataset("Loyalty", "profile", { upsert: true })
  yield* ingest(crm.id, [person([["CRMID", "c1"], ["Email", "jane@x.com"]], { person: { name: { firstName: "Jane" } }, homeAddress: { city: "San Jose" } })])
  yield* TestClock.adjust("1 hour")
  yield* ingest(loyalty.id, [person([["LoyaltyId", "L1"], ["Email", "jane@x.com"]], { person: { name: { firstName: "Janie" } }, loyalty: { tier: "gold" } })])
  return { crm, loyalty }
})

// In a folder, SQLite lookups read on a connection of their own (LookupRows.layerFile): the same answers are required.
const stores: ReadonlyArray<readonly [string, () => ProfileStore.StoreLayer]> =
  dialect === "sqlite" ? [[" in memory", store], [" in a folder", storeInFolder]] : [["", store]]

for (const [where, store] of stores) describe(`entity lookups${where}`, () => {
  it.effect("timestampOrdered + pdg (the default policy): the whole graph, the newest value per attribute", () =>
    Effect.gen(function* () {
      const { crm, loyalty } = yield* janeDoe
      const entities = yield* Entities.Entities
      const profile = yield* entities.getProfile("prod", profileQuery("CRMID", "c1"))
      expect(profile.body.entity).toMatchObject({ person: { name: { firstName: "Janie" } }, homeAddress: { city: "San Jose" }, loyalty: { tier: "gold" } })
      expect([...profile.body.sources].sort()).toEqual([crm.id, loyalty.id].sort())
      expect(profile.body.lastModifiedAt).toBe("1970-01-01T01:00:00Z")
      const identities = (profile.body.entity as any).identities as Array<any>
      expect(identities.filter((i) => i.primary)).toHaveLength(1)
    }).pipe(Effect.provide(store()))
  )

  it.effect("dataSetPrecedence decides per attribute by dataset order; identityGraph none reads only the identity's own fragments", () =>
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
      const entities = yield* Entities.Entities
      const viaCrm = yield* entities.getProfile("prod", profileQuery("Email", "jane@x.com", crmFirst.id))
      expect(viaCrm.body.entity).toMatchObject({ person: { name: { firstName: "Jane" } }, loyalty: { tier: "gold" } })

      const isolated = yield* policies.create("prod", {
        name: "No stitching",
        schemaName: "_xdm.context.profile",
        identityGraph: "none",
        attributeMerge: { type: "timestampOrdered" },
        isDefault: false,
        activeOnEdge: false
      })
      const own = yield* entities.getProfile("prod", profileQuery("CRMID", "c1", isolated.id))
      expect(own.body.sources).toEqual([crm.id])
      expect(own.body.entity).not.toHaveProperty("loyalty")
      expect(((own.body.entity as any).identities as Array<unknown>).length).toBe(1)
      // The email keys no fragment of its own: nothing to show without stitching.
      expect((yield* Effect.flip(entities.getProfile("prod", profileQuery("Email", "jane@x.com", isolated.id))))._tag).toBe("ProfileNotFound")
    }).pipe(Effect.provide(store()))
  )

  it.effect("lookups by XID, fields projection, many identities with placeholders for unknown ones", () =>
    Effect.gen(function* () {
      yield* janeDoe
      const entities = yield* Entities.Entities
      const profile = yield* entities.getProfile("prod", profileQuery("email", "JANE@x.com".toLowerCase()))
      const byXid = yield* entities.getProfile("prod", { identity: { id: profile.xid }, schemaName: "_xdm.context.profile", fields: ["person.name", "identities"] })
      expect(Object.keys(byXid.body.entity).sort()).toEqual(["identities", "person"])
      const many = yield* entities.getProfiles("prod", {
        identities: [
          { namespace: "crmid", id: "c1" },
          { namespace: "loyaltyid", id: "L1" },
          { namespace: "email", id: "nobody@x.com" }
        ],
        schemaName: "_xdm.context.profile"
      })
      const values = Object.values(many)
      expect(values).toHaveLength(2)
      expect(values.find((v) => v.entityId === profile.xid)).toBeDefined()
      expect(values.find((v) => v.entityId !== profile.xid)).toMatchObject({ entity: {}, sources: [""], lastModifiedAt: "1970-01-01T00:00:00Z" })
    }).pipe(Effect.provide(store()))
  )

  it.effect("no default policy for the class answers 422; an unknown policy id answers 404", () =>
    Effect.gen(function* () {
      yield* janeDoe
      const entities = yield* Entities.Entities
      const policies = yield* MergePolicies.MergePolicies
      const unknown = yield* Effect.flip(entities.getProfile("prod", profileQuery("CRMID", "c1", "nope")))
      expect(unknown._tag).toBe("PolicyNotFound")
      const page = yield* policies.list("prod", {})
      yield* policies.remove("prod", page.policies[0]!.id)
      const noDefault = yield* Effect.flip(entities.getProfile("prod", profileQuery("CRMID", "c1")))
      expect(noDefault._tag).toBe("NoDefaultPolicy")
    }).pipe(Effect.provide(store()))
  )

  it.effect("event pages visit every event exactly once, in order, even with equal timestamps and older events arriving mid-way", () =>
    Effect.gen(function* () {
      const web = yield* dataset("Web", "experienceevent")
      const web2 = yield* dataset("App", "experienceevent")
      const ids = [["ECID", ecid(7)], ["Email", "p@x.com"]] as const
      // 23 events, many sharing a timestamp, spread over two datasets.
      yield* ingest(web.id, Array.from({ length: 15 }, (_, i) => event(`w${i}`, 1000 + Math.floor(i / 3), [...ids])))
      yield* ingest(web2.id, Array.from({ length: 8 }, (_, i) => event(`a${i}`, 1000 + i, [["Email", "p@x.com"]])))
      const entities = yield* Entities.Entities
      const seen: Array<string> = []
      let start: string | undefined
      let pages = 0
      do {
        const page = yield* entities.getEvents("prod", { identity: { namespace: "email", id: "p@x.com" }, limit: 4, ...(start ? { start } : {}) })
        seen.push(...page.events.map((e) => e.entityId))
        if (pages === 1) {
          // An older event arrives between pages: it must not shift what follows.
          yield* ingest(web.id, [event("late", 1, [...ids])])
        }
        start = page.next
        pages++
      } while (start !== undefined)
      expect(seen).toHaveLength(23)
      expect(new Set(seen).size).toBe(23)
      expect(pages).toBe(6)
      const all = yield* entities.getEvents("prod", { identity: { namespace: "email", id: "p@x.com" }, limit: 1000 })
      const timestamps = all.events.map((e) => e.timestamp)
      expect([...timestamps].sort((a, b) => a - b)).toEqual(timestamps)
      const descending = yield* entities.getEvents("prod", { identity: { namespace: "email", id: "p@x.com" }, descending: true, limit: 2 })
      expect(descending.events[0]!.timestamp).toBeGreaterThanOrEqual(descending.events[1]!.timestamp)
    }).pipe(Effect.provide(store()))
  )

  it.effect("events filter by [startTime, endTime) and by property", () =>
    Effect.gen(function* () {
      const web = yield* dataset("Web", "experienceevent")
      yield* ingest(
        web.id,
        Array.from({ length: 10 }, (_, i) =>
          event(`e${i}`, i * 100, [["ECID", ecid(1)]], { eventType: i % 2 === 0 ? "view" : "purchase", commerce: { order: { priceTotal: i } } })
        )
      )
      const entities = yield* Entities.Entities
      const q = { identity: { namespace: "ecid", id: ecid(1) } }
      const window = yield* entities.getEvents("prod", { ...q, startTime: 200, endTime: 500 })
      expect(window.events.map((e) => e.timestamp)).toEqual([200, 300, 400])
      const purchases = yield* entities.getEvents("prod", { ...q, property: ["eventType=purchase", "commerce.order.priceTotal>=5"] })
      expect(purchases.events.map((e) => e.entityId)).toEqual(["e5", "e7", "e9"])
      const bad = yield* Effect.flip(entities.getEvents("prod", { ...q, property: ["eventType~x"] }))
      expect(bad.message).toMatch(/property/)
    }).pipe(Effect.provide(store()))
  )

  it.effect("deleting an entity removes every fragment and event of its graph", () =>
    Effect.gen(function* () {
      yield* janeDoe
      const web = yield* dataset("Web", "experienceevent")
      yield* ingest(web.id, [event("e1", 5, [["ECID", ecid(3)], ["Email", "jane@x.com"]])])
      const entities = yield* Entities.Entities
      const removed = yield* entities.deleteEntity("prod", { namespace: "email", id: "jane@x.com" }, undefined)
      expect(removed).toEqual({ fragments: 2, events: 1 })
      expect((yield* Effect.flip(entities.getProfile("prod", profileQuery("CRMID", "c1"))))._tag).toBe("ProfileNotFound")
    }).pipe(Effect.provide(store()))
  )
})
