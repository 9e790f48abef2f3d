import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0007_sample_status": statements(
    // One snapshot per sandbox and UTC day: a sample replaces the earlier one
    // of its day, since `date=` only ever returns a day's latest. `body` is
    // the snapshot's figures as JSON; the wire shapes are rendered on read.
    (t) => `CREATE TABLE sample_snapshots (
      sandbox TEXT NOT NULL,
      day TEXT NOT NULL,
      sampled_at BIGINT NOT NULL,
      submitted_at BIGINT NOT NULL,
      body ${t.json} NOT NULL,
      PRIMARY KEY (sandbox, day)
    )`,
    `CREATE INDEX sample_snapshots_latest ON sample_snapshots (sandbox, sampled_at)`
  )
}
