import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0040_job_leases": statements(
    // Who runs a background job now, until when (ms): see JobLeases.ts.
    `CREATE TABLE job_leases (
      job TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      expires_at BIGINT NOT NULL
    )`
  )
}
