import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { MergePolicies } from "../src/index.js"
import { store } from "./support/store.js"

const input = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  schema: { name: "_xdm.context.profile" },
  identityGraph: { type: "pdg" },
  attributeMerge: { type: "timestampOrdered" },
  ...extra
})

describe("merge policies", () => {
  it.effect("each sandbox starts with one default profile policy", () =>
    Effect.gen(function* () {
      const policies = yield* MergePolicies.MergePolicies
      const page = yield* policies.list("prod", {})
      expect(page.policies).toHaveLength(1)
      expect(page.policies[0]).toMatchObject({ isDefault: true, schemaName: "_xdm.context.profile", identityGraph: "pdg", version: 1 })
    }).pipe(Effect.provide(store()))
  )

  it.effect("reads resolve the default the last write left, however often they ran before it", () =>
    Effect.gen(function* () {
      const policies = yield* MergePolicies.MergePolicies
      const first = yield* policies.resolve("prod", undefined, "_xdm.context.profile")
      expect((yield* policies.resolve("prod", undefined, "_xdm.context.profile")).id).toBe(first.id)
      const second = yield* policies.create("prod", input("second", { default: true }))
      expect((yield* policies.resolve("prod", undefined, "_xdm.context.profile")).id).toBe(second.id)
      yield* policies.patch("prod", first.id, [{ op: "add", path: "/default", value: "true" }])
      expect((yield* policies.resolve("prod", undefined, "_xdm.context.profile")).id).toBe(first.id)
      yield* policies.replace("prod", second.id, input("renamed", { default: true, identityGraph: { type: "none" } }))
      expect(yield* policies.resolve("prod", undefined, "_xdm.context.profile")).toMatchObject({ id: second.id, name: "renamed", identityGraph: "none" })
      yield* policies.patch("prod", first.id, [{ op: "add", path: "/default", value: "true" }])
      yield* policies.remove("prod", second.id)
      expect((yield* policies.list("prod", {})).policies.map((p) => p.id)).toEqual([first.id])
      expect(yield* Effect.flip(policies.resolve("prod", second.id, "_xdm.context.profile"))).toMatchObject({ _tag: "PolicyNotFound" })
    }).pipe(Effect.provide(store()))
  )

  it.effect("making a policy default un-defaults the previous one; updates bump the version", () =>
    Effect.gen(function* () {
      const policies = yield* MergePolicies.MergePolicies
      const first = (yield* policies.list("prod", {})).policies[0]!
      const second = yield* policies.create("prod", input("second", { default: true }))
      expect((yield* policies.get("prod", first.id)).isDefault).toBe(false)
      expect(second.version).toBe(1)
      const patched = yield* policies.patch("prod", first.id, [{ op: "add", path: "/default", value: "true" }])
      expect(patched).toMatchObject({ isDefault: true, version: 2 })
      expect((yield* policies.get("prod", second.id)).isDefault).toBe(false)
      const replaced = yield* policies.replace("prod", second.id, input("renamed", { identityGraph: { type: "none" } }))
      expect(replaced).toMatchObject({ name: "renamed", identityGraph: "none", version: 2 })
      // A single object (Adobe's guide) works like an array (the OpenAPI document), and /idActiveOnEdge is the OAS spelling.
      const single = yield* policies.patch("prod", second.id, { op: "add", path: "/idActiveOnEdge", value: "true" })
      expect(single.activeOnEdge).toBe(true)
    }).pipe(Effect.provide(store()))
  )

  it.effect("refuses invalid bodies with a message that says what to fix, and changes nothing", () =>
    Effect.gen(function* () {
      const policies = yield* MergePolicies.MergePolicies
      const message = (effect: Effect.Effect<unknown, { message: string }>) => Effect.map(Effect.flip(effect), (e) => e.message)
      expect(yield* message(policies.create("prod", input("x", { attributeMerge: { type: "dataSetPrecedence" } })))).toMatch(/order/)
      expect(yield* message(policies.create("prod", input("x", { identityGraph: { type: "auto" } })))).toMatch(/identityGraph.type/)
      expect(yield* message(policies.create("prod", { name: "x" }))).toMatch(/schema.name/)
      const id = (yield* policies.list("prod", {})).policies[0]!.id
      expect(yield* message(policies.patch("prod", id, [{ op: "remove", path: "/name" }]))).toMatch(/op "remove"/)
      expect(yield* message(policies.patch("prod", id, [{ op: "add", path: "/imsOrgId", value: "x" }]))).toMatch(/cannot be patched/)
      expect((yield* policies.list("prod", {})).totalCount).toBe(1)
      expect((yield* policies.get("prod", id)).version).toBe(1)
    }).pipe(Effect.provide(store()))
  )

  it.effect("at most five per sandbox and one active on edge, which cannot be deleted", () =>
    Effect.gen(function* () {
      const policies = yield* MergePolicies.MergePolicies
      const edge = yield* policies.create("prod", input("edge", { isActiveOnEdge: true }))
      const second = yield* Effect.flip(policies.create("prod", input("edge 2", { isActiveOnEdge: true })))
      expect(second.message).toMatch(/already active on edge/)
      expect((yield* Effect.flip(policies.remove("prod", edge.id))).message).toMatch(/active on edge/)
      yield* policies.create("prod", input("3"))
      yield* policies.create("prod", input("4"))
      yield* policies.create("prod", input("5"))
      const sixth = yield* Effect.flip(policies.create("prod", input("6")))
      expect(sixth).toMatchObject({ _tag: "Refused", rule: "Too many merge policies" })
    }).pipe(Effect.provide(store()))
  )

  it.effect("lists with filters, ordering and pages", () =>
    Effect.gen(function* () {
      const policies = yield* MergePolicies.MergePolicies
      yield* policies.create("prod", input("b-none", { identityGraph: { type: "none" } }))
      yield* policies.create("prod", input("a-pdg"))
      const page1 = yield* policies.list("prod", { limit: 2, orderBy: "name" })
      expect(page1.policies.map((p) => p.name)).toEqual(["a-pdg", "b-none"])
      expect(page1.next).toBe(2)
      const page2 = yield* policies.list("prod", { limit: 2, orderBy: "name", start: "2" })
      expect(page2.policies.map((p) => p.name)).toEqual(["Default Timebased"])
      expect(page2.next).toBeUndefined()
      expect((yield* policies.list("prod", { orderBy: "-name" })).policies[0]!.name).toBe("Default Timebased")
      expect((yield* policies.list("prod", { identityGraphType: "none" })).policies.map((p) => p.name)).toEqual(["b-none"])
      expect((yield* policies.list("prod", { isDefault: true })).totalCount).toBe(1)
      expect((yield* Effect.flip(policies.list("prod", { orderBy: "color" }))).message).toMatch(/orderBy/)
    }).pipe(Effect.provide(store()))
  )
})
