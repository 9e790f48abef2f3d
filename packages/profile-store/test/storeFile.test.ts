import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Entities, StoreState } from "../src/index.js"
import { dialect, storeAt } from "./support/database.js"
import { dataset, ingest, person } from "./support/store.js"

const inFolder = <A, E, R>(use: (directory: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "rtcp-file-"))),
    use,
    (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
  )

const fileSettings = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const [page] = yield* sql<{ readonly page_size: number }>`PRAGMA page_size`
  const [journal] = yield* sql<{ readonly journal_mode: string }>`PRAGMA journal_mode`
  return { pageSize: page!.page_size, journalMode: journal!.journal_mode }
})

const profileOf = (crmId: string) =>
  Effect.flatMap(Entities.Entities, (entities) =>
    entities.getProfile("prod", { identity: { namespace: "crmid", id: crmId }, schemaName: "_xdm.context.profile" })
  )

describe("the store's SQLite file", () => {
  it.live.skipIf(dialect !== "sqlite")("a new store has 16 KiB pages, in WAL mode, and keeps them when opened again", () =>
    inFolder((directory) =>
      Effect.gen(function* () {
        const created = yield* Effect.gen(function* () {
          const crm = yield* dataset("CRM", "profile")
          yield* ingest(crm.id, [person([["CRMID", "c1"]], { person: { name: { firstName: "Ada" } } })])
          return yield* fileSettings
        }).pipe(Effect.provide(storeAt(directory)))
        expect(created).toEqual({ pageSize: 16384, journalMode: "wal" })
        const reopened = yield* Effect.all([fileSettings, profileOf("c1")]).pipe(Effect.provide(storeAt(directory)))
        expect(reopened[0]).toEqual({ pageSize: 16384, journalMode: "wal" })
        expect(reopened[1].body.entity).toMatchObject({ person: { name: { firstName: "Ada" } } })
      })
    )
  )

  it.live.skipIf(dialect !== "sqlite")("a store made with 4 KiB pages opens as it is: its pages stay 4 KiB and what it holds is read and written", () =>
    inFolder((directory) =>
      Effect.gen(function* () {
        // A store file as earlier versions made it: SQLite's default page size, then WAL.
        yield* Effect.sync(() => {
          const db = new Database(join(directory, "profile.db"))
          db.pragma("journal_mode = WAL")
          db.close()
        })
        yield* Effect.gen(function* () {
          const crm = yield* dataset("CRM", "profile")
          yield* ingest(crm.id, [person([["CRMID", "c1"]], { person: { name: { firstName: "Ada" } } })])
        }).pipe(Effect.provide(storeAt(directory)))
        const [settings, profile] = yield* Effect.all([fileSettings, profileOf("c1")]).pipe(Effect.provide(storeAt(directory)))
        expect(settings).toEqual({ pageSize: 4096, journalMode: "wal" })
        expect(profile.body.entity).toMatchObject({ person: { name: { firstName: "Ada" } } })
      })
    )
  )

  it.live.skipIf(dialect !== "sqlite")("a 4 KiB store moves to 16 KiB pages through a snapshot imported into a new folder", () =>
    inFolder((directory) =>
      Effect.gen(function* () {
        const [old, snapshot, next] = ["old", "snapshot", "new"].map((name) => join(directory, name))
        yield* Effect.sync(() => {
          mkdirSync(old!)
          const db = new Database(join(old!, "profile.db"))
          db.pragma("journal_mode = WAL")
          db.close()
        })
        yield* Effect.gen(function* () {
          const crm = yield* dataset("CRM", "profile")
          yield* ingest(crm.id, [person([["CRMID", "c1"]], { person: { name: { firstName: "Ada" } } })])
          yield* Effect.flatMap(StoreState.StoreState, (state) => state.exportTo(snapshot!))
        }).pipe(Effect.provide(storeAt(old)))
        const [settings, profile] = yield* Effect.gen(function* () {
          yield* Effect.flatMap(StoreState.StoreState, (state) => state.importFrom(snapshot!))
          return yield* Effect.all([fileSettings, profileOf("c1")])
        }).pipe(Effect.provide(storeAt(next)))
        expect(settings).toEqual({ pageSize: 16384, journalMode: "wal" })
        expect(profile.body.entity).toMatchObject({ person: { name: { firstName: "Ada" } } })
      })
    )
  )
})
