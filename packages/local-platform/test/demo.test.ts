import { describe, expect, it } from "@effect/vitest"
import { Identity, ProfileClient } from "@rtcp/core"
import { datasets, demoCustomer } from "@rtcp/seed"
import { Effect, Layer } from "effect"
import { seedDemo } from "../src/Seed.js"
import { client, service } from "./support/harness.js"

const seeded = client().pipe(
  Layer.provideMerge(Layer.effectDiscard(seedDemo({ sandbox: "prod", profiles: 300, anchor: new Date("2026-01-15T00:00:00Z") }))),
  Layer.provideMerge(service())
)

describe("the demo store (--seed demo)", () => {
  it.layer(seeded, { timeout: 60_000 })((it) => {
    it.effect("Jane Doe is stitched from three profile datasets and two devices; the merge policy decides each attribute", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const jane = yield* client.getProfile(Identity.make("Email", demoCustomer.email))
        expect(jane.sources).toHaveLength(3)
        const entity = jane.entity as any
        // Timestamp order (the default policy): the loyalty app (2 days old) beats CRM (30 days) on the
        // first name and city; the mobile app (10 days) beats CRM on the phone.
        expect(entity.person.name).toEqual({ firstName: "Janie", lastName: "Doe" })
        expect(entity.homeAddress.city).toBe("Santa Clara")
        expect(entity.mobilePhone.number).toBe("+14085550199")
        const ecids = entity.identities.filter((i: any) => i.namespace.code === "ecid").map((i: any) => i.id)
        expect(ecids.sort()).toEqual([...demoCustomer.ecids].sort())

        // CRM first: CRM's values win wherever CRM has one.
        const catalog = yield* Effect.promise(() => import("@rtcp/profile-store"))
        const all = yield* (yield* catalog.Catalog.Catalog).list("prod")
        const id = (key: string) => all.find((d) => d.name === datasets.find((s) => s.key === key)!.name)!.id
        const crmFirst = yield* client.createMergePolicy({
          name: "CRM first",
          schema: { name: "_xdm.context.profile" },
          identityGraph: { type: "pdg" },
          attributeMerge: { type: "dataSetPrecedence", order: [id("crm"), id("loyalty"), id("app")] }
        })
        const viaCrm = (yield* client.getProfile(Identity.make("Email", demoCustomer.email), { mergePolicyId: crmFirst.id })).entity as any
        expect(viaCrm.person.name.firstName).toBe("Jane")
        expect(viaCrm.homeAddress.city).toBe("San Jose")
        expect(viaCrm.mobilePhone.number).toBe("+14085550100")
        expect(viaCrm.loyalty.tier).toBe("gold")

        // Her purchases and page views come from both devices.
        const events = yield* client.getExperienceEvents(Identity.make("CRMID", demoCustomer.crmId), { limit: 1000 })
        const types = new Set(events.children.map((e) => (e.entity as any).eventType))
        expect(types).toEqual(new Set(["web.webpagedetails.pageViews", "commerce.purchases"]))
      })
    )
  })
})
