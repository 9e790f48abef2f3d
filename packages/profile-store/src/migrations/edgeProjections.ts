import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0009_edge_projections": statements(
    // Where projected profiles are replicated. `data_centers` is a JSON array.
    (t) => `CREATE TABLE projection_destinations (
      sandbox TEXT NOT NULL,
      id TEXT NOT NULL,
      type TEXT NOT NULL,
      data_centers ${t.json} NOT NULL,
      ttl INTEGER NOT NULL,
      replication_policy TEXT NOT NULL,
      version INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (sandbox, id)
    )`,
    // What is replicated: a selector over one schema class, under a merge policy.
    `CREATE TABLE projection_configs (
      sandbox TEXT NOT NULL,
      id TEXT NOT NULL,
      schema_name TEXT NOT NULL,
      name TEXT NOT NULL,
      selector TEXT NOT NULL,
      destination_id TEXT NOT NULL,
      merge_policy_id TEXT,
      version INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (sandbox, id)
    )`,
    `CREATE UNIQUE INDEX projection_configs_name ON projection_configs (sandbox, schema_name, name)`,
    `CREATE INDEX projection_configs_destination ON projection_configs (sandbox, destination_id)`
  )
}
