/**
 * A batch that at least doubles a table builds that table's secondary
 * indexes at its end (SQLite): the indexes a store has, and what lookups
 * find through them, are the same after every batch, committed or rolled back.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Entities, IdentityGraph } from "../src/index.js"
import * as DeferredIndexes from "../src/internal/deferredIndexes.js"
import { dialect } from "./support/database.js"
import { dataset, ecid, event, ingest, person, store } from "./support/store.js"

const TABLES = ["identities", "fragments", "events", "identity_links"]

/** Every index of the tables a batch writes, as the database defines it. */
const indexes = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  dialect === "sqlite"
    ? sql<{ readonly def: string }>`SELECT sql AS def FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
        AND ${sql.in("tbl_name", TABLES)} ORDER BY name`
    : sql<{ readonly def: string }>`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema()
        AND ${sql.in("tablename", TABLES)} ORDER BY indexname`
).pipe(Effect.map((rows) => rows.map((row) => row.def)))

const has = (definitions: ReadonlyArray<string>, name: string) => definitions.some((definition) => definition.includes(` ${name} `))

describe("secondary indexes of a large batch", () => {
  it.effect("are dropped once a table has doubled and built again, as defined, before the commit (SQLite only)", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const before = yield* indexes
      expect(has(before, "events_identity_ts")).toBe(true)
      const during = yield* Effect.gen(function* () {
        const deferred = yield* DeferredIndexes.begin(sql)
        yield* sql`INSERT INTO events (sandbox, dataset_id, id, identity_id, batch_id, ts, data, ingested_at)
          VALUES ('prod', 'd', 'e1', 1, 'b', 1, '{}', 1)`
        yield* deferred.grown
        const dropped = yield* indexes
        yield* deferred.build
        return { dropped, built: yield* indexes }
      }).pipe(sql.withTransaction)
      if (dialect === "sqlite") {
        expect(has(during.dropped, "events_identity_ts")).toBe(false)
        expect(has(during.dropped, "events_batch")).toBe(false)
        // Tables the batch did not write keep theirs.
        expect(has(during.dropped, "identities_xid")).toBe(true)
      } else {
        expect(during.dropped).toEqual(before)
      }
      expect(during.built).toEqual(before)
    }).pipe(Effect.provide(store()))
  )

  it.effect("are as they were after a batch that rolled back once it had written a chunk", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      const before = yield* indexes
      const records = Array.from({ length: 600 }, (_, n) => person([["CRMID", `c${n}`], ["Email", `c${n}@x.com`]]))
      const failed = yield* Effect.flip(ingest(crm.id, [...records, { identityMap: { ECID: [{ id: "not-an-ecid" }] } }]))
      expect(failed._tag).toBe("InvalidInput")
      expect(yield* indexes).toEqual(before)
      // The same records again: written, and found through every index.
      yield* ingest(crm.id, records)
      expect(yield* indexes).toEqual(before)
      const graph = yield* IdentityGraph.IdentityGraph
      const email = Option.getOrThrow(yield* graph.find("prod", "email", "c599@x.com"))
      expect(Option.getOrThrow(yield* graph.graphOf("prod", undefined, email.xid)).members.map((m) => m.value)).toEqual(["c599", "c599@x.com"])
    }).pipe(Effect.provide(store()))
  )

  it.effect("answer lookups after a batch that built them: by XID, and a profile's events in time order", () =>
    Effect.gen(function* () {
      const web = yield* dataset("Web", "experienceevent")
      const before = yield* indexes
      // 1,000 events of 250 devices, one person's four among them.
      const events = Array.from({ length: 1000 }, (_, n) =>
        event(`e${n}`, 1_000_000 - n, n % 250 === 7 ? [["ECID", ecid(7)], ["Email", "p@x.com"]] : [["ECID", ecid(n % 250)]])
      )
      yield* ingest(web.id, events)
      expect(yield* indexes).toEqual(before)
      const entities = yield* Entities.Entities
      const page = yield* entities.getEvents("prod", { identity: { namespace: "email", id: "p@x.com" }, limit: 10 })
      expect(page.events.map((e) => e.entityId)).toEqual(["e757", "e507", "e257", "e7"])
      const graph = yield* IdentityGraph.IdentityGraph
      const device = Option.getOrThrow(yield* graph.find("prod", "ecid", ecid(7)))
      expect(Option.getOrThrow(yield* graph.graphOf("prod", undefined, device.xid)).members.map((m) => m.value).sort()).toEqual([ecid(7), "p@x.com"].sort())
    }).pipe(Effect.provide(store()))
  )
})
