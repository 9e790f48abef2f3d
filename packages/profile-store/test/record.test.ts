import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { XdmRecord } from "../src/index.js"

const parse = (record: unknown, cls: "profile" | "experienceevent" = "profile") => XdmRecord.parse(record, cls)
const error = (record: unknown, cls: "profile" | "experienceevent" = "profile") => {
  const result = parse(record, cls)
  return Either.isLeft(result) ? result.left.message : undefined
}

describe("XDM records", () => {
  it("reads identities from identityMap and identities arrays, case-insensitive namespaces", () => {
    const result = parse({
      identityMap: { Email: [{ id: "a@x.com", primary: true }] },
      identities: [{ id: "c1", namespace: { code: "CRMID" } }, { id: "a@x.com", namespace: { code: "email" } }]
    })
    expect(Either.isRight(result)).toBe(true)
    const parsed = Either.getOrThrow(result)
    expect(parsed.identities.map((i) => `${i.nsKey}:${i.value}`)).toEqual(["email:a@x.com", "crmid:c1"])
    expect(parsed.primary.value).toBe("a@x.com")
  })

  it("events default their primary identity to ECID and need _id and timestamp", () => {
    const ecid = "1".repeat(38)
    const parsed = Either.getOrThrow(
      parse({ _id: "e1", timestamp: "2025-01-01T00:00:00Z", identityMap: { Email: [{ id: "a@x" }], ECID: [{ id: ecid }] } }, "experienceevent")
    )
    expect(parsed.primary.nsKey).toBe("ecid")
    expect(parsed.timestamp).toBe(Date.parse("2025-01-01T00:00:00Z"))
    expect(error({ timestamp: 1, identityMap: { ECID: [{ id: ecid }] } }, "experienceevent")).toMatch(/_id/)
    expect(error({ _id: "e", identityMap: { ECID: [{ id: ecid }] } }, "experienceevent")).toMatch(/timestamp/)
  })

  it("explains what is wrong with an invalid identity map", () => {
    expect(error("x")).toMatch(/JSON object/)
    expect(error({})).toMatch(/no identity/)
    expect(error({ identityMap: [] })).toMatch(/identityMap must be an object/)
    expect(error({ identityMap: { Email: { id: "x" } } })).toMatch(/identityMap.Email must be an array/)
    expect(error({ identityMap: { Email: [{ id: "" }] } })).toMatch(/identityMap.Email\[0\].id/)
    expect(error({ identityMap: { ECID: [{ id: "123" }] } })).toMatch(/38 digits/)
    expect(error({ identityMap: { Email: [{ id: "a", primary: true }, { id: "b", primary: true }] } })).toMatch(/primary/)
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`NS${i}`, [{ id: `v${i}` }]]))
    expect(error({ identityMap: many })).toMatch(/at most 20/)
  })

  it("reads the custom timestamp of the External Source System Audit field group", () => {
    const parsed = Either.getOrThrow(
      parse({ identityMap: { Email: [{ id: "a" }] }, extSourceSystemAudit: { lastUpdatedDate: "2024-05-01T00:00:00Z" } })
    )
    expect(parsed.customTimestamp).toBe(Date.parse("2024-05-01T00:00:00Z"))
    expect(parsed.data).not.toHaveProperty("_id")
  })
})
