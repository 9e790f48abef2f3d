import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0020_identity_links": statements(
    // The graph's edges, kept to explain a profile (components alone say who
    // is linked, not why). One row per pair of identities per dataset and
    // batch that linked them; `identity_id` < `linked_id`. Streaming records
    // have no batch: `batch_id` is '' (not NULL, so the key matches on upsert).
    `CREATE TABLE identity_links (
      sandbox TEXT NOT NULL,
      identity_id INTEGER NOT NULL,
      linked_id INTEGER NOT NULL,
      dataset_id TEXT NOT NULL,
      batch_id TEXT NOT NULL,
      first_seen BIGINT NOT NULL,
      last_seen BIGINT NOT NULL,
      PRIMARY KEY (sandbox, identity_id, linked_id, dataset_id, batch_id)
    )`,
    `CREATE INDEX identity_links_linked ON identity_links (sandbox, linked_id)`,
    `CREATE INDEX identity_links_dataset ON identity_links (sandbox, dataset_id, batch_id)`
  )
}
