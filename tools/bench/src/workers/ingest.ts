/**
 * One ingestion measurement in a fresh process:
 *
 * - `source`: only generating the records (what both writers below also pay);
 * - `raw`: the same records as the same rows (identities with their XID, one
 *   fragment or event each, the same JSON) written straight to SQLite with
 *   better-sqlite3 into the store's own schema (its migrations, so the same
 *   indexes) and connection settings: prepared statements, one transaction
 *   per dataset, no validation, no stitching, no Effect. The limit of the store's layout.
 * - `floor`: the same records, serialized as the raw writer does, as the
 *   rows of one table with no index in the store's file and connection
 *   settings: no identity, no key, no upsert. No layout that keeps the
 *   records in SQLite writes them faster, so it says how much of a time
 *   target is left for identities, indexes and validation on this machine.
 * - `service`: `Ingestion.ingestRecords` of the profile store, one batch per
 *   dataset, with validation and stitching, exactly as `seedDemo` does it.
 */
import { SqlClient } from "@effect/sql"
import type Database from "better-sqlite3"
import { Catalog, Ingestion, ProfileStore } from "@rtcp/profile-store"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { identityResolver, migrateStore, openStoreFile } from "../lib/rawWriter.js"
import { datasets, isEventDataset, recordsOf, SANDBOX } from "../lib/seed.js"
import { resources, stopwatch, workerMain } from "../lib/worker.js"

export interface IngestArgs {
  readonly mode: "source" | "floor" | "raw" | "service"
  readonly profiles: number
  /** Store folder (floor, raw and service). */
  readonly dir?: string
  /** SQLite page cache of the writing connection in MiB; the store's (64 MiB) when undefined. */
  readonly cacheMb?: number | undefined
  /** A `postgres://` URL: `service` ingests into that database instead of the folder's SQLite file. */
  readonly database?: string | undefined
}

export interface DatasetTiming {
  readonly key: string
  readonly id: string
  readonly records: number
  readonly ms: number
}

export interface IngestResult {
  readonly mode: IngestArgs["mode"]
  readonly profiles: number
  readonly records: number
  readonly wallMs: number
  /** CPU time (user + system) of the measured part: less sensitive than wall time to other load on the machine. */
  readonly cpuMs: number
  readonly recordsPerSecond: number
  readonly maxRssMb: number
  readonly datasets: ReadonlyArray<DatasetTiming>
}

const source = (profiles: number) => {
  const timings: Array<DatasetTiming> = []
  for (const spec of datasets) {
    const started = performance.now()
    let records = 0
    for (const record of recordsOf(spec.key, profiles)) if (record !== undefined) records++
    timings.push({ key: spec.key, id: spec.key, records, ms: performance.now() - started })
  }
  return timings
}

type SeedRecord = ReturnType<typeof recordsOf> extends Iterable<infer R> ? R : never

/**
 * What the raw and floor writers share: each dataset's records in one
 * transaction, timed, through the writer `writerFor` makes for the dataset.
 * The caller opened `db` and closes it.
 */
const writeDatasets = (
  db: Database.Database,
  profiles: number,
  writerFor: (spec: (typeof datasets)[number], datasetId: string) => (record: SeedRecord) => void
) => {
  const timings: Array<DatasetTiming> = []
  for (const spec of datasets) {
    const datasetId = randomBytes(12).toString("hex")
    const write = writerFor(spec, datasetId)
    const started = performance.now()
    let records = 0
    db.transaction(() => {
      for (const record of recordsOf(spec.key, profiles)) {
        records++
        write(record)
      }
    })()
    timings.push({ key: spec.key, id: datasetId, records, ms: performance.now() - started })
  }
  return timings
}

const raw = (dir: string, profiles: number, cacheMb: number | undefined) => {
  const db = openStoreFile(dir, cacheMb)
  const insertFragment = db.prepare(
    `INSERT INTO fragments (sandbox, dataset_id, identity_id, batch_id, data, ingested_at, custom_ts) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sandbox, dataset_id, identity_id) DO UPDATE SET data = excluded.data, ingested_at = excluded.ingested_at`
  )
  const insertEvent = db.prepare(
    `INSERT INTO events (sandbox, dataset_id, id, identity_id, batch_id, ts, data, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sandbox, dataset_id, id) DO UPDATE SET data = excluded.data, ingested_at = excluded.ingested_at`
  )
  const now = Date.now()
  const primaryOf = identityResolver(db, now)
  try {
    return writeDatasets(db, profiles, (spec, datasetId) => {
      const batchId = randomBytes(13).toString("hex").toUpperCase()
      return isEventDataset(spec)
        ? (record) =>
          insertEvent.run(SANDBOX, datasetId, record._id, primaryOf(record.identityMap), batchId, Date.parse(record.timestamp as string), JSON.stringify(record), now)
        : (record) => insertFragment.run(SANDBOX, datasetId, primaryOf(record.identityMap), batchId, JSON.stringify(record), now, null)
    })
  } finally {
    db.close()
  }
}

const floor = (dir: string, profiles: number, cacheMb: number | undefined) => {
  const db = openStoreFile(dir, cacheMb)
  db.exec(`CREATE TABLE floor_rows (dataset_id TEXT NOT NULL, data TEXT NOT NULL)`)
  const insert = db.prepare(`INSERT INTO floor_rows (dataset_id, data) VALUES (?, ?)`)
  try {
    return writeDatasets(db, profiles, (_, datasetId) => (record) => insert.run(datasetId, JSON.stringify(record)))
  } finally {
    db.close()
  }
}

const service = (dir: string, profiles: number, cacheMb: number | undefined, database?: string) =>
  Effect.gen(function* () {
    // The store has one connection, so the pragma holds for every statement below.
    if (cacheMb !== undefined && database === undefined) yield* (yield* SqlClient.SqlClient).unsafe(`PRAGMA cache_size = -${Math.round(cacheMb * 1024)}`)
    const catalog = yield* Catalog.Catalog
    const ingestion = yield* Ingestion.Ingestion
    const timings: Array<DatasetTiming> = []
    for (const spec of datasets) {
      const dataset = yield* catalog.create(SANDBOX, {
        name: spec.name,
        description: spec.description,
        schemaRef: { id: spec.schemaClass, contentType: "application/vnd.adobe.xed+json;version=1" },
        tags: { unifiedProfile: spec.upsert ? ["enabled:true", "isUpsert:true"] : ["enabled:true"] }
      })
      const started = performance.now()
      const batch = yield* ingestion.ingestRecords(SANDBOX, dataset.id, recordsOf(spec.key, profiles))
      timings.push({ key: spec.key, id: dataset.id, records: batch.recordsTotal, ms: performance.now() - started })
    }
    return timings
  }).pipe(Effect.provide(ProfileStore.layerFor({ directory: dir, database })), Effect.orDie)

workerMain<IngestArgs, IngestResult>(async ({ cacheMb, database, dir, mode, profiles }) => {
  if (mode !== "source" && dir === undefined) throw new Error("dir is required")
  if (mode === "raw" || mode === "floor") await migrateStore(dir!)
  const stop = stopwatch()
  const timings = mode === "source"
    ? source(profiles)
    : mode === "floor"
    ? floor(dir!, profiles, cacheMb)
    : mode === "raw"
    ? raw(dir!, profiles, cacheMb)
    : await Effect.runPromise(service(dir!, profiles, cacheMb, database))
  const { cpuMs, wallMs } = stop()
  const records = timings.reduce((sum, t) => sum + t.records, 0)
  return {
    mode,
    profiles,
    records,
    wallMs,
    cpuMs,
    recordsPerSecond: records / (wallMs / 1000),
    maxRssMb: resources().maxRssMb,
    datasets: timings
  }
})
