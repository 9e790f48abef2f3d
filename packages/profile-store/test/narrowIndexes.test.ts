/**
 * Migration 0041 rebuilds two indexes narrower: a data folder made before it
 * answers the same lookups after it, through the new indexes.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Entities, IdentityGraph, StoreState } from "../src/index.js"
import { dialect, storeAt } from "./support/database.js"
import { dataset, ecid, event, ingest, person, store } from "./support/store.js"

/** The definition of index `name` as the database keeps it. */
const indexDefinition = (name: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    dialect === "sqlite"
      ? sql<{ readonly def: string }>`SELECT sql AS def FROM sqlite_master WHERE type = 'index' AND name = ${name}`
      : sql<{ readonly def: string }>`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`
  ).pipe(Effect.map((rows) => rows.map((row) => row.def.replace(/\s+/g, " "))))

describe("migration 0041 (narrower indexes)", () => {
  it.live("converts a data folder made before it: lookups by XID and event pages answer as before", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-narrow-"))
      const store = () => Layer.fresh(storeAt(directory))
      const lookups = Effect.gen(function* () {
        const graph = yield* IdentityGraph.IdentityGraph
        const entities = yield* Entities.Entities
        const email = yield* graph.find("prod", "email", "p@x.com")
        const byXid = yield* graph.graphOf("prod", undefined, Option.getOrThrow(email).xid)
        const page = yield* entities.getEvents("prod", { identity: { namespace: "email", id: "p@x.com" }, limit: 10 })
        return {
          members: Option.getOrThrow(byXid).members.map((m) => `${m.ns}:${m.value}`),
          requested: Option.getOrThrow(byXid).requested.value,
          events: page.events.map((e) => e.entityId),
          missing: Option.isNone(yield* graph.find("prod", undefined, "no-such-xid-at-all-000000000"))
        }
      })
      // First life: data written, then the indexes put back as they were before 0041.
      const before = yield* Effect.gen(function* () {
        const crm = yield* dataset("CRM", "profile")
        const web = yield* dataset("Web", "experienceevent")
        yield* ingest(crm.id, [person([["CRMID", "c1"], ["Email", "p@x.com"]])])
        yield* ingest(web.id, [event("e2", 2000, [["ECID", ecid(1)], ["Email", "p@x.com"]]), event("e1", 1000, [["ECID", ecid(1)]])])
        const sql = yield* SqlClient.SqlClient
        yield* sql`DROP INDEX identities_xid`
        yield* sql`CREATE INDEX identities_xid ON identities (sandbox, xid)`
        yield* sql`DROP INDEX events_identity_ts`
        yield* sql`CREATE INDEX events_identity_ts ON events (identity_id, ts, id)`
        yield* sql`DELETE FROM rtcp_migrations WHERE migration_id = 41`
        return yield* lookups
      }).pipe(Effect.provide(store()))
      expect(before).toEqual({ members: ["crmid:c1", "email:p@x.com", "ecid:" + ecid(1)], requested: "p@x.com", events: ["e1", "e2"], missing: true })
      // Second life: the migration runs on the existing tables.
      yield* Effect.gen(function* () {
        expect(yield* lookups).toEqual(before)
        const [xid] = yield* indexDefinition("identities_xid")
        const [events] = yield* indexDefinition("events_identity_ts")
        expect(xid).toMatch(/\(substr\(xid, 1, 11\)\)/)
        expect(events).toMatch(/\(identity_id, ts\)$/)
      }).pipe(Effect.provide(store()))
      rmSync(directory, { recursive: true, force: true })
    }))

  it.effect("a snapshot made at 0040 imports as it is: 0041 changed indexes, not rows", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-snapshot-0040-"))
      const state = yield* StoreState.StoreState
      const crm = yield* dataset("CRM", "profile")
      yield* ingest(crm.id, [person([["CRMID", "c1"], ["Email", "p@x.com"]])])
      const manifest = yield* state.exportTo(directory)
      expect(manifest.migration).toBe("0041_narrow_indexes")
      const file = join(directory, "manifest.json")
      const written = JSON.parse(readFileSync(file, "utf8"))
      writeFileSync(file, JSON.stringify({ ...written, migration: "0040_job_leases" }))
      yield* state.reset()
      const imported = yield* state.importFrom(directory)
      expect(imported.migration).toBe("0040_job_leases")
      const graph = yield* IdentityGraph.IdentityGraph
      const email = Option.getOrThrow(yield* graph.find("prod", "email", "p@x.com"))
      expect(Option.getOrThrow(yield* graph.graphOf("prod", undefined, email.xid)).members.map((m) => m.value)).toEqual(["c1", "p@x.com"])
      // A level before a migration that changed rows is still refused.
      writeFileSync(file, JSON.stringify({ ...written, migration: "0039_something_older" }))
      const refused = yield* Effect.flip(state.importFrom(directory))
      expect(refused.reason).toBe("MigrationLevel")
      rmSync(directory, { recursive: true, force: true })
    }).pipe(Effect.provide(store())))
})
