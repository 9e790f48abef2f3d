/**
 * The whole engine as one layer over a `SqlClient`: on embedded SQLite (the
 * default, one process per data folder) or on PostgreSQL (several processes
 * on one database).
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { ConfigError } from "effect"
import { Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Catalog from "./Catalog.js"
import * as ComputedAttributes from "./ComputedAttributes.js"
import { DataDirectory } from "./DataDirectory.js"
import * as DataVersion from "./DataVersion.js"
import * as EdgeProjections from "./EdgeProjections.js"
import * as DataFolderLock from "./DataFolderLock.js"
import { SharedFile } from "./internal/dialect.js"
import * as Entities from "./Entities.js"
import * as ExportJobs from "./ExportJobs.js"
import * as IdentityGraph from "./IdentityGraph.js"
import * as Ingestion from "./Ingestion.js"
import * as JobLeases from "./JobLeases.js"
import * as LookupRows from "./LookupRows.js"
import * as MergePolicies from "./MergePolicies.js"
import * as Migrations from "./Migrations.js"
import * as SampleStatus from "./SampleStatus.js"
import * as Sandboxes from "./Sandboxes.js"
import * as StoreEvents from "./StoreEvents.js"
import * as StoreState from "./StoreState.js"
import * as SystemJobs from "./SystemJobs.js"
import * as WalCheckpoints from "./WalCheckpoints.js"

const migrated = Layer.effectDiscard(Migrations.run.pipe(Effect.orDie))

const base = Layer.mergeAll(Catalog.layer, IdentityGraph.layer, MergePolicies.layer, StoreEvents.layer, JobLeases.layer).pipe(
  Layer.provideMerge(Sandboxes.layer)
)

/** Where lookups read their rows: the store's `SqlClient`, or a SQLite file's connection of its own (LookupRows.ts). */
type LookupRowsLayer = Layer.Layer<LookupRows.LookupRows, never, SqlClient.SqlClient | IdentityGraph.IdentityGraph>

const engine = (rows: LookupRowsLayer) =>
  Layer.mergeAll(Entities.layer.pipe(Layer.provide(rows)), Ingestion.layer).pipe(Layer.provideMerge(base))

/** Features built on the engine: each may use every engine and base service. */
const features = Layer.mergeAll(
  SystemJobs.layer,
  EdgeProjections.layer,
  ExportJobs.layer,
  SampleStatus.layer,
  ComputedAttributes.layer,
  StoreState.layer,
  Layer.empty
  // Feature layers (system jobs, export jobs, sample status, computed
  // attributes, edge projections): one line each, above this comment.
)

/**
 * Batches a stopped process left processing are taken over last: their
 * processing holds the connection (a batch is one transaction), and the
 * other services' start must not wait for it.
 */
const resumed = Layer.effectDiscard(Effect.flatMap(Ingestion.Ingestion, (ingestion) => ingestion.resumeCutOff))

const services = (rows: LookupRowsLayer) =>
  resumed.pipe(Layer.provideMerge(features.pipe(Layer.provideMerge(engine(rows)))), Layer.provide(migrated))

/** Every store service, over whatever `SqlClient` is provided (SQLite or Postgres). */
export const layer = Layer.merge(services(LookupRows.layer), DataVersion.layer)

/** Kept here too for callers that knew it as `ProfileStore.DataDirectory`. */
export { DataDirectory }

export interface SqliteOptions {
  /** Folder of the database (created if missing); `":memory:"` for a throw-away store. */
  readonly directory: string
}

const dataDirectory = (directory: string) => {
  if (directory !== ":memory:") mkdirSync(directory, { recursive: true })
  return directory === ":memory:" ? mkdtempSync(join(tmpdir(), "rtcp-store-")) : directory
}

/**
 * Settings of the one SQLite connection, for ingestion's large transactions:
 *
 * - 16 KiB pages in a new store file instead of SQLite's 4 KiB. A batch
 *   writes rows of several hundred bytes of JSON and scatters index entries
 *   over B-trees larger than the page cache; with pages four times larger
 *   there are a quarter as many to find, spill to the log and checkpoint.
 *   Ingesting 300,000 profiles took 121 s instead of 167 s (twice each,
 *   back to back). A file's page size is fixed once it is in WAL mode, so
 *   it is set first, and WAL is turned on here rather than by the client;
 *   a file made with another page size keeps it;
 * - a 64 MiB page cache instead of SQLite's 2 MiB: a batch is one
 *   transaction, and with a small cache its dirty index pages are spilled to
 *   the WAL again and again before it commits (and at a million profiles the
 *   identity and event indexes no longer fit at all);
 * - `synchronous = NORMAL`: under WAL a commit is still written to the log
 *   before it returns, so an acknowledged batch survives the process being
 *   killed; only a power cut may lose the last commits, never corrupt the
 *   file. FULL would add one fsync per streamed record;
 * - temporary B-trees (sorts, index builds) in memory.
 *
 * No `mmap_size`: mapped pages count in the process's resident memory.
 */
const tuned = Layer.effectDiscard(
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forEach(
      [
        "PRAGMA page_size = 16384",
        "PRAGMA journal_mode = WAL",
        "PRAGMA cache_size = -65536",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA temp_store = MEMORY"
      ],
      (pragma) => sql.unsafe(pragma),
      { discard: true }
    )
  ).pipe(Effect.orDie)
)

/**
 * The store on embedded SQLite (WAL), in `directory/profile.db`. One process
 * at a time per folder: a second fails with `DataFolderInUse`.
 */
export const layerSqlite = (options: SqliteOptions) => {
  const filename = options.directory === ":memory:" ? ":memory:" : join(options.directory, "profile.db")
  const directory = dataDirectory(options.directory)
  const inFile = filename !== ":memory:"
  return Layer.mergeAll(
    services(inFile ? LookupRows.layerFile(filename) : LookupRows.layer),
    inFile ? DataVersion.layerFile(filename) : DataVersion.layer,
    inFile ? WalCheckpoints.layer(filename) : Layer.empty
  ).pipe(
    Layer.provide(tuned),
    // WAL is turned on by `tuned`, after the page size.
    Layer.provideMerge(SqliteClient.layer({ filename, disableWAL: true })),
    Layer.provideMerge(Layer.succeed(DataDirectory, directory)),
    Layer.provide(options.directory === ":memory:" ? Layer.empty : Layer.scopedDiscard(DataFolderLock.acquire(directory)))
  )
}

/**
 * The lookups alone (`Entities` and what it reads: identity graph, merge
 * policies, sandboxes), for a process that answers reads while another
 * process owns the store and writes it: no migrations, no jobs, no folder
 * lock, and nothing cached that the writer could change underneath.
 */
const readerServices = (rows: LookupRowsLayer) =>
  Entities.layer.pipe(
    Layer.provide(rows),
    Layer.provideMerge(Layer.mergeAll(IdentityGraph.layer, MergePolicies.layer, StoreEvents.layer, Sandboxes.layer)),
    Layer.provide(Layer.succeed(SharedFile, true))
  )

export const layerReader = Layer.merge(readerServices(LookupRows.layer), DataVersion.layer)

/** What `layerReader` provides. */
export type ReaderServices = Layer.Layer.Success<typeof layerReader>

/**
 * `layerReader` on the SQLite file of `directory`, opened read-only: under
 * WAL it reads the last committed state while the writer writes, so a write
 * the writer acknowledged is what the next read here sees.
 */
export const layerSqliteReader = (options: { readonly directory: string }) =>
  Layer.merge(
    readerServices(LookupRows.layerFile(join(options.directory, "profile.db"))),
    DataVersion.layerFile(join(options.directory, "profile.db"))
  ).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: join(options.directory, "profile.db"), readonly: true, disableWAL: true }))
  )

export interface PostgresOptions {
  /** `postgres://user:password@host:5432/database` */
  readonly url: string
  /** Folder of the files besides the database (export job output); `":memory:"` for a temporary one. */
  readonly directory: string
  /** Schema of the store's tables (default: the connection's `search_path`, usually `public`). */
  readonly schema?: string | undefined
  readonly maxConnections?: number | undefined
}

/**
 * How rows come back from Postgres: BIGINT and NUMERIC (times, ids, counts,
 * sums) as numbers like SQLite's, and JSON as its text, which the store
 * parses itself as it does on SQLite.
 */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    switch (oid) {
      case pg.types.builtins.INT8:
      case pg.types.builtins.NUMERIC:
        return (value: string) => Number(value)
      case pg.types.builtins.JSON:
      case pg.types.builtins.JSONB:
        return (value: string) => value
      default:
        return pg.types.getTypeParser(oid, format ?? "text")
    }
  }) as pg.CustomTypesConfig["getTypeParser"]
}

/** Whether `url` names a Postgres database (`postgres://` or `postgresql://`). */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url)

/** The `SqlClient` (and `PgClient`) of a Postgres store, with the store's type parsers. */
export const layerPgClient = (options: Omit<PostgresOptions, "directory">) => {
  const url = new URL(options.url)
  // The schema travels as a startup option, so every pooled connection has it.
  if (options.schema !== undefined) url.searchParams.set("options", `-c search_path=${options.schema}`)
  return PgClient.layer({
    url: Redacted.make(url.toString()),
    types: pgTypes,
    // The pid tells an operator (pg_stat_activity) which process a connection serves.
    applicationName: `rtcp-profile-store:${process.pid}`,
    maxConnections: options.maxConnections ?? 10
  })
}

/** The store on PostgreSQL: several processes may share the database. */
export const layerPostgres = (options: PostgresOptions) =>
  layer.pipe(
    Layer.provideMerge(layerPgClient(options)),
    Layer.provideMerge(Layer.succeed(DataDirectory, dataDirectory(options.directory)))
  )

export interface StoreOptions {
  /** Data folder (SQLite database, export files); `":memory:"` for a throw-away store. */
  readonly directory: string
  /** A `postgres://` URL: the store lives there instead of in the folder's SQLite file. */
  readonly database?: string | undefined
  /** The Postgres schema of the store's tables (default: the connection's `search_path`). */
  readonly schema?: string | undefined
}

/** What every store layer provides, whichever the database. */
export type Services = Layer.Layer.Success<typeof layer> | SqlClient.SqlClient | DataDirectory

/** A whole store on one database or the other. */
export type StoreLayer = Layer.Layer<Services, ConfigError.ConfigError | SqlError.SqlError | DataFolderLock.DataFolderInUse>

/** SQLite in `directory`, or Postgres when a database URL is given. */
export const layerFor = (options: StoreOptions): StoreLayer =>
  options.database === undefined
    ? layerSqlite({ directory: options.directory })
    : layerPostgres({ url: options.database, directory: options.directory, schema: options.schema })

const adminQuery = (url: string, text: string) =>
  Effect.tryPromise({
    try: async () => {
      const client = new pg.Client({ connectionString: url, application_name: "rtcp-profile-store" })
      await client.connect()
      try {
        await client.query(text)
      } finally {
        await client.end()
      }
    },
    catch: (cause) => new Error(`PostgreSQL at ${new URL(url).host}: ${cause instanceof Error ? cause.message : String(cause)}`)
  })

let scratchCount = 0

/**
 * A new, empty schema on the Postgres database at `url`, dropped (with
 * everything in it) when the scope closes: a throw-away store, as
 * `":memory:"` is on SQLite.
 */
export const scratchSchema = (url: string) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const schema = `rtcp_scratch_${process.pid}_${Date.now().toString(36)}_${(scratchCount++).toString(36)}`
      return Effect.as(adminQuery(url, `CREATE SCHEMA ${schema}`), schema)
    }),
    (schema) => Effect.orDie(adminQuery(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`))
  )

/** Creates `schema` unless it exists (for a store kept in a named schema). */
export const ensureSchema = (url: string, schema: string) => adminQuery(url, `CREATE SCHEMA IF NOT EXISTS ${schema}`)

/** Drops `schema` and all of the store's tables in it. */
export const dropSchema = (url: string, schema: string) => adminQuery(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)

/** A Postgres store in a scratch schema that is dropped when the layer is released. */
export const layerPostgresScratch = (options: Omit<PostgresOptions, "schema">) =>
  Layer.unwrapScoped(Effect.map(Effect.orDie(scratchSchema(options.url)), (schema) => layerPostgres({ ...options, schema })))
