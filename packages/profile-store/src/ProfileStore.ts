/**
 * The whole engine as one layer over a `SqlClient`, and the embedded SQLite
 * flavour of it.
 *
 * @since 0.1.0
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import * as Catalog from "./Catalog.js"
import * as Entities from "./Entities.js"
import * as IdentityGraph from "./IdentityGraph.js"
import * as Ingestion from "./Ingestion.js"
import * as MergePolicies from "./MergePolicies.js"
import * as Migrations from "./Migrations.js"
import * as Sandboxes from "./Sandboxes.js"
import * as StoreEvents from "./StoreEvents.js"

const migrated = Layer.effectDiscard(Migrations.run.pipe(Effect.orDie))

/** Every store service, over whatever `SqlClient` is provided (SQLite here; the SQL is portable). */
export const layer = Layer.mergeAll(Entities.layer, Ingestion.layer).pipe(
  Layer.provideMerge(Layer.mergeAll(Catalog.layer, IdentityGraph.layer, MergePolicies.layer, StoreEvents.layer)),
  Layer.provideMerge(Sandboxes.layer),
  Layer.provide(migrated)
)

export interface SqliteOptions {
  /** Folder of the database (created if missing); `":memory:"` for a throw-away store. */
  readonly directory: string
}

/** The store on embedded SQLite (WAL), in `directory/profile.db`. */
export const layerSqlite = (options: SqliteOptions) => {
  const filename = options.directory === ":memory:" ? ":memory:" : join(options.directory, "profile.db")
  if (options.directory !== ":memory:") mkdirSync(options.directory, { recursive: true })
  return layer.pipe(Layer.provideMerge(SqliteClient.layer({ filename })))
}
