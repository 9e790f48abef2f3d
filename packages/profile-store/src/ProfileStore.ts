/**
 * The whole engine as one layer over a `SqlClient`, and the embedded SQLite
 * flavour of it.
 *
 * @since 0.1.0
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import { mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Catalog from "./Catalog.js"
import * as ComputedAttributes from "./ComputedAttributes.js"
import { DataDirectory } from "./DataDirectory.js"
import * as EdgeProjections from "./EdgeProjections.js"
import * as Entities from "./Entities.js"
import * as ExportJobs from "./ExportJobs.js"
import * as IdentityGraph from "./IdentityGraph.js"
import * as Ingestion from "./Ingestion.js"
import * as MergePolicies from "./MergePolicies.js"
import * as Migrations from "./Migrations.js"
import * as SampleStatus from "./SampleStatus.js"
import * as Sandboxes from "./Sandboxes.js"
import * as StoreEvents from "./StoreEvents.js"
import * as StoreState from "./StoreState.js"
import * as SystemJobs from "./SystemJobs.js"

const migrated = Layer.effectDiscard(Migrations.run.pipe(Effect.orDie))

const base = Layer.mergeAll(Catalog.layer, IdentityGraph.layer, MergePolicies.layer, StoreEvents.layer).pipe(
  Layer.provideMerge(Sandboxes.layer)
)

const engine = Layer.mergeAll(Entities.layer, Ingestion.layer).pipe(Layer.provideMerge(base))

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

/** Every store service, over whatever `SqlClient` is provided (SQLite here; the SQL is portable). */
export const layer = features.pipe(Layer.provideMerge(engine), Layer.provide(migrated))

/** Kept here too for callers that knew it as `ProfileStore.DataDirectory`. */
export { DataDirectory }

export interface SqliteOptions {
  /** Folder of the database (created if missing); `":memory:"` for a throw-away store. */
  readonly directory: string
}

/** The store on embedded SQLite (WAL), in `directory/profile.db`. */
export const layerSqlite = (options: SqliteOptions) => {
  const filename = options.directory === ":memory:" ? ":memory:" : join(options.directory, "profile.db")
  if (options.directory !== ":memory:") mkdirSync(options.directory, { recursive: true })
  const directory =
    options.directory === ":memory:" ? mkdtempSync(join(tmpdir(), "rtcp-store-")) : options.directory
  return layer.pipe(
    Layer.provideMerge(SqliteClient.layer({ filename })),
    Layer.provideMerge(Layer.succeed(DataDirectory, directory))
  )
}
