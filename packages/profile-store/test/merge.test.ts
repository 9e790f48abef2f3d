import { describe, expect, it } from "@effect/vitest"
import { Merge } from "../src/index.js"

const fragment = (datasetId: string, data: Record<string, unknown>, ingestedAt: number, customTimestamp: number | null = null) => ({
  datasetId,
  data,
  ingestedAt,
  customTimestamp
})

describe("merge", () => {
  it("timestampOrdered: per attribute, the most recent fragment wins; objects merge field by field", () => {
    const merged = Merge.merge(
      [
        fragment("crm", { person: { name: { firstName: "Jane", lastName: "Doe" } }, homeAddress: { city: "San Jose" } }, 1),
        fragment("loyalty", { person: { name: { firstName: "Janie" } }, loyalty: { tier: "gold" } }, 2)
      ],
      { type: "timestampOrdered" }
    )
    expect(merged.entity).toEqual({
      person: { name: { firstName: "Janie", lastName: "Doe" } },
      homeAddress: { city: "San Jose" },
      loyalty: { tier: "gold" }
    })
    expect(merged.sources).toEqual(["crm", "loyalty"])
    expect(merged.lastModifiedAt).toBe(2)
  })

  it("timestampOrdered: the custom timestamp beats ingestion time", () => {
    const merged = Merge.merge(
      [
        fragment("crm", { person: { name: { firstName: "Jane" } } }, 10, 5_000),
        fragment("loyalty", { person: { name: { firstName: "Janie" } } }, 20, 1_000)
      ],
      { type: "timestampOrdered" }
    )
    expect((merged.entity as any).person.name.firstName).toBe("Jane")
  })

  it("dataSetPrecedence: the first listed dataset wins whatever the time; unlisted datasets are not merged", () => {
    const merged = Merge.merge(
      [
        fragment("crm", { person: { name: { firstName: "Jane" } }, crmOnly: 1 }, 1),
        fragment("loyalty", { person: { name: { firstName: "Janie" } }, loyalty: { tier: "gold" } }, 9),
        fragment("other", { secret: true }, 10)
      ],
      { type: "dataSetPrecedence", order: ["crm", "loyalty"] }
    )
    expect((merged.entity as any).person.name.firstName).toBe("Jane")
    expect((merged.entity as any).loyalty.tier).toBe("gold")
    expect(merged.entity).not.toHaveProperty("secret")
    expect(merged.sources).toEqual(["loyalty", "crm"])
  })

  it("arrays are one value; identityMap is the union of every fragment's identities", () => {
    const merged = Merge.merge(
      [
        fragment("a", { tags: ["x", "y"], identityMap: { Email: [{ id: "a@x" }] } }, 1),
        fragment("b", { tags: ["z"], identityMap: { Email: [{ id: "a@x" }], CRMID: [{ id: "c1" }] } }, 2)
      ],
      { type: "timestampOrdered" }
    )
    expect((merged.entity as any).tags).toEqual(["z"])
    expect((merged.entity as any).identityMap).toEqual({ Email: [{ id: "a@x" }], CRMID: [{ id: "c1" }] })
  })

  it("fields keep the listed paths and their parents only", () => {
    const entity = { person: { name: { firstName: "Jane", lastName: "Doe" }, birthDate: "x" }, loyalty: { tier: "gold" }, identities: [1] }
    expect(Merge.project(entity, ["person.name.firstName", "loyalty"])).toEqual({
      person: { name: { firstName: "Jane" } },
      loyalty: { tier: "gold" }
    })
    expect(Merge.project(entity, ["identities", "missing.path"])).toEqual({ identities: [1] })
  })
})
