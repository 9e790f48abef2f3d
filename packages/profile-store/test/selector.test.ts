import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { EdgeProjections } from "../src/index.js"

const { Selector } = EdgeProjections

const paths = (selector: string) => Either.getOrThrow(Selector.parse(selector)).paths
const error = (selector: string) => {
  const result = Selector.parse(selector)
  if (Either.isRight(result)) throw new Error(`"${selector}" should not parse`)
  return result.left
}

describe("Selector.parse", () => {
  it("accepts AEP's examples", () => {
    expect(paths("emails,person(firstName)")).toEqual(["emails", "person.firstName"])
    expect(paths("strategy")).toEqual(["strategy"])
    expect(paths("addresses(type,city.country)")).toEqual(["addresses.type", "addresses.city.country"])
  })

  it("accepts dot paths, nested parentheses and tenant fields", () => {
    expect(paths("person.name.firstName,_tenant.loyalty(tier,points)")).toEqual([
      "person.name.firstName",
      "_tenant.loyalty.tier",
      "_tenant.loyalty.points"
    ])
    expect(paths("a(b(c,d),e.f(g))")).toEqual(["a.b.c", "a.b.d", "a.e.f.g"])
    expect(paths("person.name(firstName),homeAddress")).toEqual(["person.name.firstName", "homeAddress"])
  })

  it("keeps the tree and drops repeated paths", () => {
    const parsed = Either.getOrThrow(Selector.parse("emails,person(name.firstName),emails"))
    expect(parsed.fields).toEqual([
      { path: "emails", children: [] },
      { path: "person", children: [{ path: "name.firstName", children: [] }] },
      { path: "emails", children: [] }
    ])
    expect(parsed.paths).toEqual(["emails", "person.name.firstName"])
    expect(parsed.source).toBe("emails,person(name.firstName),emails")
  })

  it("refuses an empty selector", () => {
    expect(error("").message).toMatch(/empty/)
  })

  it("refuses spaces and says where", () => {
    const e = error("emails, person")
    expect(e.position).toBe(8)
    expect(e.message).toMatch(/must not contain spaces/)
    expect(error("person (firstName)").position).toBe(7)
  })

  it("refuses empty fields", () => {
    expect(error("a,,b")).toMatchObject({ position: 3 })
    expect(error("a,,b").message).toMatch(/two commas in a row/)
    expect(error(",a").position).toBe(1)
    expect(error("a,").message).toMatch(/expected a field name, found the end/)
  })

  it("refuses misplaced dots", () => {
    expect(error(".a").message).toMatch(/cannot start with "\."/)
    expect(error("a.").message).toMatch(/cannot end with "\."/)
    expect(error("a..b")).toMatchObject({ position: 3 })
    expect(error("a..b").message).toMatch(/empty field name between two dots/)
    expect(error("a(b).c").message).toMatch(/cannot continue after "\)"/)
  })

  it("refuses unbalanced or empty parentheses", () => {
    const missing = error("person(name(firstName)")
    expect(missing.message).toMatch(/missing "\)"/)
    expect(missing.position).toBe(7)
    expect(error("person)").message).toMatch(/unmatched "\)"/)
    expect(error("person()").message).toMatch(/empty parentheses after "person"/)
    expect(error("(a)").message).toMatch(/expected a field name before "\("/)
    expect(error("a(b,)").message).toMatch(/before "\)"/)
    expect(error("a(b)c").message).toMatch(/expected "," or "\)" after "\)", found "c"/)
  })

  it("refuses characters a field name cannot have", () => {
    const e = error("items[0].sku")
    expect(e.position).toBe(6)
    expect(e.message).toMatch(/unexpected "\["/)
    expect(error("a/b").message).toMatch(/unexpected "\/"/)
  })

  it("check gives the message or undefined", () => {
    expect(Selector.check("emails")).toBeUndefined()
    expect(Selector.check("emails,")).toMatch(/position 8/)
  })
})

describe("Selector.select", () => {
  const profile = {
    emails: [{ address: "a@example.com", primary: true }],
    person: { name: { firstName: "Jane", lastName: "Doe" }, gender: "female" },
    addresses: [
      { type: "home", city: { name: "San Jose", country: "US" }, street: "1 Main" },
      { type: "work", city: { name: "Basel", country: "CH" } },
      { street: "no type, no city" }
    ],
    loyalty: { tier: "gold" }
  }
  const select = (selector: string) => Selector.select(profile, Either.getOrThrow(Selector.parse(selector)))

  it("a parent path selects its whole subtree", () => {
    expect(select("emails,loyalty")).toEqual({ emails: profile.emails, loyalty: { tier: "gold" } })
  })

  it("parents of a selected leaf are kept without their other children", () => {
    expect(select("person(name.firstName)")).toEqual({ person: { name: { firstName: "Jane" } } })
  })

  it("selecting inside an array keeps that part of every element", () => {
    expect(select("addresses(type,city.country)")).toEqual({
      addresses: [
        { type: "home", city: { country: "US" } },
        { type: "work", city: { country: "CH" } }
      ]
    })
  })

  it("parentheses are the same as spelled-out paths", () => {
    expect(select("addresses(type,city.country)")).toEqual(select("addresses.type,addresses.city.country"))
  })

  it("missing fields are left out", () => {
    expect(select("person.birthDate,nothing(here)")).toEqual({})
  })
})
