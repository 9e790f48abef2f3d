import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DataVersion, Entities, MergePolicies } from "../src/index.js"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { dialect, storeAt } from "./support/database.js"
import { dataset, ingest, person, store } from "./support/store.js"

const version = Effect.flatMap(DataVersion.DataVersion, (v) => v.current)

describe("data version", () => {
  it.effect.skipIf(dialect !== "sqlite")("changes with every kind of write and stays put while nothing is written", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      const seen = new Set<string>()
      const expectNew = function* () {
        const now = yield* version
        expect(Option.isSome(now)).toBe(true)
        const value = Option.getOrThrow(now)
        expect(seen.has(value)).toBe(false)
        seen.add(value)
        return value
      }
      yield* expectNew()
      yield* ingest(crm.id, [person([["CRMID", "c1"]], { v: 1 })])
      const afterIngest = yield* expectNew()
      // Reads write nothing.
      const entities = yield* Entities.Entities
      yield* entities.getProfile("prod", { identity: { namespace: "crmid", id: "c1" }, schemaName: "_xdm.context.profile" })
      expect(Option.getOrThrow(yield* version)).toBe(afterIngest)
      // A merge policy is data the answers depend on too.
      const policies = yield* MergePolicies.MergePolicies
      yield* policies.create("prod", {
        name: "no stitching",
        schemaName: "_xdm.context.profile",
        identityGraph: "none",
        attributeMerge: { type: "timestampOrdered" },
        isDefault: false,
        activeOnEdge: false
      })
      yield* expectNew()
      yield* entities.deleteEntity("prod", { namespace: "crmid", id: "c1" }, undefined)
      yield* expectNew()
    }).pipe(Effect.provide(store()))
  )

  it.effect.skipIf(dialect !== "sqlite")("in a file, is read without an Effect and changes with the store's own commits", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "rtcp-data-version-"))),
      (directory) =>
        Effect.gen(function* () {
          const { peek } = yield* DataVersion.DataVersion
          expect(peek).toBeDefined()
          const crm = yield* dataset("CRM", "profile")
          const before = peek!()
          expect(Option.getOrThrow(yield* version)).toBe(before)
          yield* ingest(crm.id, [person([["CRMID", "c1"]], { v: 1 })])
          const after = peek!()
          expect(after).not.toBe(before)
          const entities = yield* Entities.Entities
          yield* entities.getProfile("prod", { identity: { namespace: "crmid", id: "c1" }, schemaName: "_xdm.context.profile" })
          expect(peek!()).toBe(after)
        }).pipe(Effect.provide(storeAt(directory))),
      (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
    )
  )

  it.effect.skipIf(dialect !== "postgres")("is not told on a database other processes share: nothing may be cached", () =>
    Effect.gen(function* () {
      expect(Option.isNone(yield* version)).toBe(true)
    }).pipe(Effect.provide(store()))
  )
})
