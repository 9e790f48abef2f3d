/**
 * What the raw writers of the benchmarks (`ingest`'s baseline, `layouts`)
 * share: the store's schema, its connection settings and its identities,
 * written with better-sqlite3 and none of the store's code but its XID
 * formula, so that both write the same rows.
 */
import { IdentityGraph, ProfileStore } from "@rtcp/profile-store"
import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import { join } from "node:path"
import { SANDBOX } from "./seed.js"

/** Creates the store's schema (its migrations) in `dir`, then closes it. */
export const migrateStore = (dir: string) => Effect.runPromise(Effect.scoped(Layer.build(ProfileStore.layerSqlite({ directory: dir }))))

/**
 * The store's database in `dir` with the store's own connection settings
 * (ProfileStore.layerSqlite), so that a raw writer differs from the store
 * only in what it does. `cacheMb`: the page cache, 64 MiB as the store's.
 */
export const openStoreFile = (dir: string, cacheMb: number | undefined) => {
  const db = new Database(join(dir, "profile.db"))
  db.pragma("journal_mode = WAL")
  db.pragma(`cache_size = -${Math.round((cacheMb ?? 64) * 1024)}`)
  db.pragma("synchronous = NORMAL")
  db.pragma("temp_store = MEMORY")
  return db
}

type IdentityMap = Record<string, Array<{ readonly id: string; readonly primary?: boolean }>>

/**
 * Resolves a record's identity map to its primary identity's id, inserting
 * identities seen for the first time (with their XID, each its own graph),
 * one point lookup per identity: no stitching.
 */
export const identityResolver = (db: Database.Database, now: number) => {
  const select = db.prepare("SELECT id FROM identities WHERE sandbox = ? AND ns = ? AND value = ?").pluck()
  const insert = db.prepare("INSERT INTO identities (id, sandbox, ns, value, xid, graph_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
  let nextId = Number(db.prepare("SELECT COALESCE(MAX(id), 0) FROM identities").pluck().get())
  return (identityMap: unknown): number => {
    let primary = 0
    for (const [ns, entries] of Object.entries(identityMap as IdentityMap)) {
      const nsKey = ns.toLowerCase()
      for (const entry of entries) {
        let id = select.get(SANDBOX, nsKey, entry.id) as number | undefined
        if (id === undefined) {
          id = ++nextId
          insert.run(id, SANDBOX, nsKey, entry.id, IdentityGraph.xidOf(nsKey, entry.id), id, now)
        }
        if (entry.primary === true || primary === 0) primary = id
      }
    }
    return primary
  }
}
