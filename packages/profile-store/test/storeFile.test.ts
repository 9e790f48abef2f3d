import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Entities, StoreState } from "../src/index.js"
import { dialect, inFolder, storeAt } from "./support/database.js"
import { dataset, ingest, person } from "./support/store.js"

const fileSettings = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const [page] = yield* sql<{ readonly page_size: number }>`PRAGMA page_size`
  const [journal] = yield* sql<{ readonly journal_mode: string }>`PRAGMA journal_mode`
  return { pageSize: page!.page_size, journalMode: journal!.journal_mode }
})

/** A store file as earlier versions made it: SQLite's default page size, then WAL. */
const earlierStoreFile = (directory: string) =>
  Effect.sync(() => {
    mkdirSync(directory, { recursive: true })
    const db = new Database(join(directory, "profile.db"))
    db.pragma("journal_mode = WAL")
    db.close()
  })

const ADA = { person: { name: { firstName: "Ada" } } }

const ingestAda = Effect.flatMap(dataset("CRM", "profile"), (crm) => ingest(crm.id, [person([["CRMID", "c1"]], ADA)]))

/** The file's settings and Ada's profile, read from the store. */
const readBack = Effect.all([
  fileSettings,
  Effect.flatMap(Entities.Entities, (entities) =>
    entities.getProfile("prod", { identity: { namespace: "crmid", id: "c1" }, schemaName: "_xdm.context.profile" })
  ).pipe(Effect.map((profile) => profile.body.entity))
])

describe("the store's SQLite file", () => {
  it.live.skipIf(dialect !== "sqlite")("a new store has 16 KiB pages, in WAL mode, and keeps them when opened again", () =>
    inFolder("rtcp-file-", (directory) =>
      Effect.gen(function* () {
        const created = yield* Effect.zipRight(ingestAda, fileSettings).pipe(Effect.provide(storeAt(directory)))
        expect(created).toEqual({ pageSize: 16384, journalMode: "wal" })
        const [settings, entity] = yield* readBack.pipe(Effect.provide(storeAt(directory)))
        expect(settings).toEqual({ pageSize: 16384, journalMode: "wal" })
        expect(entity).toMatchObject(ADA)
      })
    )
  )

  it.live.skipIf(dialect !== "sqlite")("a store made with 4 KiB pages opens as it is: its pages stay 4 KiB and what it holds is read and written", () =>
    inFolder("rtcp-file-", (directory) =>
      Effect.gen(function* () {
        yield* earlierStoreFile(directory)
        yield* ingestAda.pipe(Effect.provide(storeAt(directory)))
        const [settings, entity] = yield* readBack.pipe(Effect.provide(storeAt(directory)))
        expect(settings).toEqual({ pageSize: 4096, journalMode: "wal" })
        expect(entity).toMatchObject(ADA)
      })
    )
  )

  it.live.skipIf(dialect !== "sqlite")("a 4 KiB store moves to 16 KiB pages through a snapshot imported into a new folder", () =>
    inFolder("rtcp-file-", (directory) =>
      Effect.gen(function* () {
        const [old, snapshot, next] = ["old", "snapshot", "new"].map((name) => join(directory, name)) as [string, string, string]
        yield* earlierStoreFile(old)
        yield* ingestAda.pipe(
          Effect.zipRight(Effect.flatMap(StoreState.StoreState, (state) => state.exportTo(snapshot))),
          Effect.provide(storeAt(old))
        )
        const [settings, entity] = yield* Effect.flatMap(StoreState.StoreState, (state) => state.importFrom(snapshot)).pipe(
          Effect.zipRight(readBack),
          Effect.provide(storeAt(next))
        )
        expect(settings).toEqual({ pageSize: 16384, journalMode: "wal" })
        expect(entity).toMatchObject(ADA)
      })
    )
  )
})
