/**
 * One measurement of the `layouts` benchmark in a fresh process: the web
 * events of the seeded data (70 % of its records) written to SQLite with
 * better-sqlite3, on one connection with the store's settings, in one
 * transaction, with identities resolved as the raw writer of `ingest.ts`
 * does. Only the events table differs between layouts:
 *
 * - `store`: the store's own table (its migrations): the event id in a text
 *   primary key `(sandbox, dataset_id, id)`, then `(identity_id, ts)` and
 *   `(sandbox, batch_id)`; an upsert on the primary key;
 * - `integer-key`: the text key replaced by a 48-bit hash of it in an
 *   integer index (an entry of about 14 bytes instead of about 75); keeping
 *   the upsert's meaning then takes a lookup by hash and a comparison of the
 *   whole key before each write;
 * - `no-index`: no index at all on the events: the floor of every layout
 *   that keeps the same rows;
 * - `rows-only`: no index, and no identity resolved (every event's
 *   `identity_id` is 0): what writing the rows alone costs, so that
 *   `no-index` minus this is what resolving identities by SQLite point
 *   lookups costs.
 */
import Database from "better-sqlite3"
import { createHash, randomBytes } from "node:crypto"
import { statSync } from "node:fs"
import { join } from "node:path"
import { identityResolver, migrateStore, openStoreFile } from "../lib/rawWriter.js"
import { datasets, recordsOf, SANDBOX } from "../lib/seed.js"
import { resources, stopwatch, workerMain } from "../lib/worker.js"
import type { IngestResult } from "./ingest.js"

export type Layout = "store" | "integer-key" | "no-index" | "rows-only"

export interface LayoutArgs {
  readonly layout: Layout
  readonly profiles: number
  readonly dir: string
  /** SQLite page cache of the connection in MiB; the store's (64 MiB) when undefined. */
  readonly cacheMb?: number | undefined
}

/** The figures of an ingestion measurement, for one layout. */
export interface LayoutResult extends Omit<IngestResult, "mode" | "datasets"> {
  readonly layout: Layout
  readonly databaseMb: number
}

const web = datasets.find((d) => d.key === "web")!

/** The layout's events table in place of the store's (same columns but `key`). */
const replaceEvents = (db: Database.Database, layout: Layout) => {
  if (layout === "store") return
  db.exec(`DROP TABLE events`)
  db.exec(`CREATE TABLE events (
    key INTEGER NOT NULL, sandbox TEXT NOT NULL, dataset_id TEXT NOT NULL, id TEXT NOT NULL, identity_id INTEGER NOT NULL,
    batch_id TEXT, ts BIGINT NOT NULL, data TEXT NOT NULL, ingested_at BIGINT NOT NULL
  )`)
  if (layout === "integer-key") {
    db.exec(`CREATE INDEX events_key ON events (key)`)
    db.exec(`CREATE INDEX events_identity_ts ON events (identity_id, ts)`)
    db.exec(`CREATE INDEX events_batch ON events (sandbox, batch_id)`)
  }
}

const hash48 = (text: string) => createHash("md5").update(text).digest().readUIntBE(0, 6)

const write = ({ cacheMb, dir, layout, profiles }: LayoutArgs) => {
  const db = openStoreFile(dir, cacheMb)
  replaceEvents(db, layout)
  const upsertStore = layout !== "store" ? undefined : db.prepare(
    `INSERT INTO events (sandbox, dataset_id, id, identity_id, batch_id, ts, data, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sandbox, dataset_id, id) DO UPDATE SET data = excluded.data, ingested_at = excluded.ingested_at`
  )
  const insertKeyed = layout === "store" ? undefined : db.prepare(
    `INSERT INTO events (key, sandbox, dataset_id, id, identity_id, batch_id, ts, data, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
  )
  const byKey = layout !== "integer-key" ? undefined : db.prepare(`SELECT rowid AS r, sandbox, dataset_id, id FROM events WHERE key = ?`)
  const updateRow = layout !== "integer-key" ? undefined : db.prepare(`UPDATE events SET data = ?, ingested_at = ? WHERE rowid = ?`)
  const now = Date.now()
  const primaryOf = identityResolver(db, now)
  const datasetId = randomBytes(12).toString("hex")
  const batchId = randomBytes(13).toString("hex").toUpperCase()
  let records = 0
  db.transaction(() => {
    for (const record of recordsOf(web.key, profiles)) {
      records++
      // Every event of `rows-only` on identity 0: the rows without their identities.
      const primary = layout === "rows-only" ? 0 : primaryOf(record.identityMap)
      const eventId = record._id as string
      const ts = Date.parse(record.timestamp as string)
      const data = JSON.stringify(record)
      if (upsertStore !== undefined) {
        upsertStore.run(SANDBOX, datasetId, eventId, primary, batchId, ts, data, now)
        continue
      }
      const key = layout === "integer-key" ? hash48(`${SANDBOX}\u0000${datasetId}\u0000${eventId}`) : 0
      if (byKey !== undefined) {
        const same = (byKey.all(key) as Array<{ r: number; sandbox: string; dataset_id: string; id: string }>).find(
          (row) => row.sandbox === SANDBOX && row.dataset_id === datasetId && row.id === eventId
        )
        if (same !== undefined) {
          updateRow!.run(data, now, same.r)
          continue
        }
      }
      insertKeyed!.run(key, SANDBOX, datasetId, eventId, primary, batchId, ts, data, now)
    }
  })()
  db.close()
  return records
}

workerMain<LayoutArgs, LayoutResult>(async (args) => {
  await migrateStore(args.dir)
  const stop = stopwatch()
  const records = write(args)
  const { cpuMs, wallMs } = stop()
  return {
    layout: args.layout,
    profiles: args.profiles,
    records,
    wallMs,
    cpuMs,
    recordsPerSecond: records / (wallMs / 1000),
    maxRssMb: resources().maxRssMb,
    databaseMb: statSync(join(args.dir, "profile.db")).size / (1024 * 1024)
  }
})
