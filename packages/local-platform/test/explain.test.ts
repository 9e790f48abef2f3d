import { describe, expect, it } from "@effect/vitest"
import { Identity, ProfileClient } from "@rtcp/core"
import { Catalog } from "@rtcp/profile-store"
import { datasets, demoCustomer } from "@rtcp/seed"
import { Effect, Layer } from "effect"
import { seedDemo } from "../src/Seed.js"
import { client, service } from "./support/harness.js"

const seeded = client().pipe(
  Layer.provideMerge(Layer.effectDiscard(seedDemo({ sandbox: "prod", profiles: 50, anchor: new Date("2026-01-15T00:00:00Z") }))),
  Layer.provideMerge(service())
)

/** Every leaf of a merged entity but its identities, by dot path. */
const leaves = (value: unknown, prefix = ""): Array<[string, unknown]> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? Object.entries(value).flatMap(([key, child]) =>
        prefix === "" && (key === "identityMap" || key === "identities") ? [] : leaves(child, prefix === "" ? key : `${prefix}.${key}`)
      )
    : [[prefix, value]]

/** The explanation and the lookup agree on every attribute, the XID and the identities. */
const agree = (mergePolicyId: string | undefined) =>
  Effect.gen(function* () {
    const client = yield* ProfileClient.ProfileClient
    const jane = Identity.make("Email", demoCustomer.email)
    const profile = yield* client.getProfile(jane, mergePolicyId === undefined ? {} : { mergePolicyId })
    const explanation = yield* client.explainProfile({ entityId: demoCustomer.email, entityIdNS: "Email", mergePolicyId })
    expect(explanation.entityId).toBe(profile.entityId)
    expect(new Map(explanation.attributes.map((a) => [a.path, a.value] as const))).toEqual(new Map(leaves(profile.entity)))
    const identities = (profile.entity as any).identities as Array<{ id: string; namespace: { code: string }; primary?: boolean }>
    expect(explanation.identities.map((i) => `${i.namespace}/${i.id}/${i.primary}`).sort()).toEqual(
      identities.map((i) => `${i.namespace.code}/${i.id}/${i.primary === true}`).sort()
    )
    return explanation
  })

describe("GET /rtcp/explain/profile (an rtcp extension)", () => {
  it.layer(seeded, { timeout: 60_000 })((it) => {
    it.effect("Jane Doe under timestampOrdered: each attribute from its newest fragment, with what it beat and every identity's link", () =>
      Effect.gen(function* () {
        const explanation = yield* agree(undefined)
        expect(explanation.mergePolicy.attributeMerge.type).toBe("timestampOrdered")
        const all = yield* Effect.flatMap(Catalog.Catalog, (catalog) => catalog.list("prod"))
        const name = (key: string) => datasets.find((s) => s.key === key)!.name
        const firstName = explanation.attributes.find((a) => a.path === "person.name.firstName")!
        expect(firstName.value).toBe("Janie")
        expect(firstName.source.datasetName).toBe(name("loyalty"))
        expect(all.map((d) => d.id)).toContain(firstName.source.datasetId)
        expect(firstName.beaten.map((b) => [b.value, b.source.datasetName])).toContainEqual(["Jane", name("crm")])
        // Every identity but the primary one joined through a link recorded at ingestion.
        const primary = explanation.identities.filter((i) => i.primary)
        expect(primary).toHaveLength(1)
        expect(primary[0]!.link).toBeNull()
        for (const identity of explanation.identities.filter((i) => !i.primary)) {
          expect(identity.link, `${identity.namespace}/${identity.id}`).not.toBeNull()
          expect(identity.link!.firstSeen).toBeLessThanOrEqual(identity.link!.lastSeen)
        }
      })
    )

    it.effect("Jane Doe under dataSetPrecedence (CRM first): CRM's values win and the explanation says so", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const all = yield* Effect.flatMap(Catalog.Catalog, (catalog) => catalog.list("prod"))
        const id = (key: string) => all.find((d) => d.name === datasets.find((s) => s.key === key)!.name)!.id
        const crmFirst = yield* client.createMergePolicy({
          name: "CRM first (explain)",
          schema: { name: "_xdm.context.profile" },
          identityGraph: { type: "pdg" },
          attributeMerge: { type: "dataSetPrecedence", order: [id("crm"), id("loyalty"), id("app")] }
        })
        const explanation = yield* agree(crmFirst.id)
        expect(explanation.mergePolicy).toMatchObject({ id: crmFirst.id, attributeMerge: { type: "dataSetPrecedence" } })
        const firstName = explanation.attributes.find((a) => a.path === "person.name.firstName")!
        expect(firstName).toMatchObject({ value: "Jane", source: { datasetId: id("crm") } })
        yield* client.deleteMergePolicy(crmFirst.id)
      })
    )

    it.effect("answers as a lookup would: 404 for an unknown identity, 404 for an unknown merge policy", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const unknown = yield* Effect.flip(client.explainProfile({ entityId: "nobody@example.com", entityIdNS: "Email" }))
        expect(unknown).toMatchObject({ _tag: "NotFound", status: 404 })
        const policy = yield* Effect.flip(client.explainProfile({ entityId: demoCustomer.email, entityIdNS: "Email", mergePolicyId: "nope" }))
        expect(policy).toMatchObject({ _tag: "NotFound", status: 404 })
      })
    )
  })
})
