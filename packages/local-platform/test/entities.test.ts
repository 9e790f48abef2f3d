import { describe, expect, it } from "@effect/vitest"
import { Identity, ProfileClient } from "@rtcp/core"
import { Effect, Stream } from "effect"
import { ingest, layer } from "./support/harness.js"

const crm = (i: number, first: string, updated: string) => ({
  _id: `crm-${i}`,
  identityMap: { CRMID: [{ id: `c${i}`, primary: true }], Email: [{ id: `p${i}@example.com` }] },
  person: { name: { firstName: first, lastName: "Doe" } },
  extSourceSystemAudit: { lastUpdatedDate: updated }
})

describe("entities through the core client", () => {
  it.layer(layer())((it) => {
    it.effect("looks up a stitched profile and its events", () =>
      Effect.gen(function* () {
        yield* ingest({ name: "CRM", xdmClass: "profile" }, [crm(1, "Jane", "2025-01-01T00:00:00Z")])
        yield* ingest({ name: "Loyalty", xdmClass: "profile", upsert: true }, [
          {
            _id: "l1",
            identityMap: { LoyaltyId: [{ id: "L1", primary: true }], Email: [{ id: "p1@example.com" }] },
            person: { name: { firstName: "Janie" } },
            loyalty: { tier: "gold" },
            extSourceSystemAudit: { lastUpdatedDate: "2025-06-01T00:00:00Z" }
          }
        ])
        yield* ingest(
          { name: "Web", xdmClass: "experienceevent" },
          Array.from({ length: 25 }, (_, i) => ({
            _id: `e${i}`,
            timestamp: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
            eventType: "web.webpagedetails.pageViews",
            identityMap: {
              ECID: [{ id: "1".repeat(38), primary: true }],
              Email: [{ id: "p1@example.com", authenticatedState: "authenticated" }]
            }
          }))
        )
        const client = yield* ProfileClient.ProfileClient
        const profile = yield* client.getProfile(Identity.make("email", "p1@example.com"))
        expect(profile.sources).toHaveLength(2)
        expect((profile.entity as any).person.name.firstName).toBe("Janie")
        expect((profile.entity as any).loyalty.tier).toBe("gold")
        const codes = ((profile.entity as any).identities as Array<any>).map((i) => i.namespace.code).sort()
        expect(codes).toEqual(["crmid", "ecid", "email", "loyaltyid"])

        const byXid = yield* client.getProfile(Identity.xid(profile.entityId))
        expect(byXid.entityId).toBe(profile.entityId)

        const events = yield* Stream.runCollect(client.experienceEvents(Identity.make("CRMID", "c1"), { limit: 7 }))
        const ids = [...events].map((e) => e.entityId)
        expect(ids).toHaveLength(25)
        expect(new Set(ids).size).toBe(25)

        const missing = yield* Effect.flip(client.getProfile(Identity.make("email", "nobody@example.com")))
        expect(missing._tag).toBe("NotFound")
        // Namespaces match whatever their case; an answer names the namespace as it was asked.
        expect((yield* client.getProfile(Identity.make("EMAIL", "p1@example.com"))).entityId).toBe(profile.entityId)
        const asked = yield* Effect.flip(client.getProfile(Identity.make("EMAIL", "nobody@example.com")))
        expect(asked.body).toMatchObject({ message: "UPS-ACC-1000003:No data found for entityId nobody@example.com in namespace EMAIL" })
      })
    )
  })
})
